/**
 * `flux metrics --format prom`: Prometheus text exposition format 0.0.4, written for
 * node-exporter's textfile collector (`--out /var/lib/node_exporter/textfile/flux.prom`, run
 * from cron). One family per figure, named flux_workflow_*, labelled by workflow and owner;
 * totals are left to PromQL (`sum by (owner) (...)`), so a sum over workflows never counts
 * anything twice.
 *
 * Every family is a gauge. These are figures of a report over a window, recomputed from the
 * logs each time: a count can go down when the window moves on (a counter may only rise, and
 * a fall reads as a process restart to rate()), and the quantiles come from a sketch, not
 * from a summary's own _sum and _count, which this report does not have. Samples carry no
 * timestamp: the textfile collector rejects them; the report's own time is a gauge instead.
 * A figure that cannot be computed (null) has no sample, rather than a NaN that graphs as 0.
 */
import { escapeControl } from '../../text/escape.js';
import type { LiveFigures, MetricsReport, Quantiles, WorkflowFigures } from '../report.js';

type Labels = Readonly<Record<string, string>>;

interface Sample {
  readonly labels: Labels;
  readonly value: number;
}

interface Family {
  readonly name: string;
  readonly help: string;
  readonly samples: readonly Sample[];
}

const STATUSES = ['succeeded', 'failed', 'escalated', 'cancelled', 'rejected', 'running', 'waiting', 'stalled'] as const;
const QUANTILES: readonly (readonly [keyof Quantiles, string])[] = [['p50', '0.5'], ['p90', '0.9'], ['p99', '0.99']];

/** Renders the report as Prometheus text exposition, for node-exporter's textfile collector. */
export function formatProm(report: MetricsReport): string {
  const ws = report.workflows;
  const per = (name: string, help: string, value: (w: WorkflowFigures) => number | null): Family => ({
    name,
    help,
    samples: ws.flatMap((w) => sample(ids(w), value(w))),
  });
  const quantiles = (name: string, help: string, q: (w: WorkflowFigures) => Quantiles): Family => ({
    name,
    help,
    samples: ws.flatMap((w) => QUANTILES.flatMap(([key, quantile]) => sample({ ...ids(w), quantile }, q(w)[key]))),
  });
  const families: Family[] = [
    {
      name: 'flux_workflow_runs',
      help: 'Runs started in the report window, by how they stand now (each run in exactly one status).',
      samples: ws.flatMap((w) => STATUSES.flatMap((status) => sample({ ...ids(w), status }, w.runs[status]))),
    },
    per('flux_workflow_runs_started', 'Runs started in the report window (the sum of flux_workflow_runs over status).', (w) => w.runs.started),
    per('flux_workflow_leaked_runs', 'Runs that failed with no escalation delivered, or stopped without an end; the goal is 0.', (w) => w.leaked),
    per('flux_workflow_success_ratio', 'Succeeded runs over runs that ended succeeded, failed or escalated.', (w) => w.success_rate),
    per('flux_workflow_error_ratio', 'Failed and escalated runs over runs that ended succeeded, failed or escalated.', (w) => w.error_rate),
    per('flux_workflow_leakage_ratio', 'Leaked runs over runs started.', (w) => w.leakage_rate),
    per('flux_workflow_reclaimed_hours', 'Hours of manual work saved: succeeded runs times their baseline minutes_per_run / 60.', (w) => w.reclaimed_hours),
    {
      name: 'flux_workflow_reclaimed_value',
      help: 'Value of the reclaimed hours at the baseline hourly_cost, in the currency label.',
      samples: ws.flatMap((w) => sample({ ...ids(w), currency: w.currency ?? '' }, w.reclaimed_value)),
    },
    quantiles('flux_workflow_response_seconds', 'Time from the triggering event to the first successful response step, by quantile.', (w) => w.response_seconds),
    per('flux_workflow_response_baseline_seconds', 'The manual baseline for a response (baseline.response_minutes) in seconds.', (w) => w.response_baseline_seconds),
    quantiles('flux_workflow_cycle_seconds', 'Time from the triggering event to the end of a succeeded run, waits included, by quantile.', (w) => w.cycle_seconds),
    quantiles('flux_workflow_ack_seconds', 'Time from an escalation to its acknowledgement (escalations with ack_within), by quantile.', (w) => w.ack_seconds),
    {
      name: 'flux_workflow_step_failures',
      help: 'Failed finishes of a step in the report window.',
      samples: ws.flatMap((w) => w.steps.flatMap((s) => sample({ ...ids(w), step: s.step }, s.failed))),
    },
    {
      name: 'flux_metrics_report_timestamp_seconds',
      help: 'When this report was computed, in Unix seconds (samples carry no timestamp of their own).',
      samples: sample({}, Date.parse(report.generated_at) / 1000),
    },
    {
      name: 'flux_metrics_warnings',
      help: 'Log lines or files that could not be used while computing this report.',
      samples: sample({}, report.warnings.length + report.warnings_omitted),
    },
    ...(report.live === undefined ? [] : liveFamilies(report.live)),
  ];
  return families.map(render).join('');
}

/**
 * With --store, the store's state when the report was made, named flux_store_* so they never
 * mix with the daemon's own /metrics (flux_runs, read at each scrape). A workflow with nothing
 * in flight has no sample: the store lists only the pairs it has.
 */
function liveFamilies(live: LiveFigures): Family[] {
  return [
    {
      name: 'flux_store_runs',
      help: 'Runs queued, running and waiting in the store when the report was made, by workflow and status.',
      samples: live.runs.flatMap((r) => (['queued', 'running', 'waiting'] as const).flatMap((status) => sample({ workflow: r.workflow, status }, r[status]))),
    },
    {
      name: 'flux_store_escalations_unacknowledged',
      help: 'Escalations nobody has acknowledged yet, by workflow.',
      samples: live.escalations.flatMap((e) => sample({ workflow: e.workflow }, e.unacknowledged)),
    },
    {
      name: 'flux_store_escalations_overdue',
      help: 'Unacknowledged escalations past their ack_within deadline, by workflow.',
      samples: live.escalations.flatMap((e) => sample({ workflow: e.workflow }, e.overdue)),
    },
    {
      name: 'flux_store_poll_failures',
      help: 'Failed polls in a row of the poll triggers failing now, by workflow.',
      samples: live.failing_polls.flatMap((p) => sample({ workflow: p.workflow }, p.failures)),
    },
    {
      name: 'flux_metrics_log_incomplete_runs',
      help: 'Runs with no end in the logs read that the store says finished (their end is in a log directory not given).',
      samples: sample({}, live.log_incomplete_runs),
    },
  ];
}

function ids(w: WorkflowFigures): Labels {
  return { workflow: w.name, owner: w.owner ?? '' };
}

/** No sample for a null or non-finite figure (the report promises none, but a NaN must not slip through). */
function sample(labels: Labels, value: number | null): Sample[] {
  return value === null || !Number.isFinite(value) ? [] : [{ labels, value }];
}

function render(f: Family): string {
  const lines = [`# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${f.name} gauge`];
  for (const s of f.samples) {
    const labels = Object.entries(s.labels).map(([k, v]) => `${k}="${labelValue(v)}"`);
    lines.push(`${f.name}${labels.length === 0 ? '' : `{${labels.join(',')}}`} ${String(s.value)}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * A label value as the format wants it: backslash, double quote and line feed escaped. Other
 * control characters are first shown as text (`\e`), as every flux output does: the file is
 * read by people with `cat` as well as by Prometheus, and no real workflow name holds one.
 */
function labelValue(value: string): string {
  return escapeControl(value, { keepLines: true }).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
