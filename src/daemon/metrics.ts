/**
 * What the daemon counts, for `GET /metrics` (Prometheus text format, through prom-client).
 * The parts of the daemon call a small interface, `DaemonMetrics`, and never prom-client
 * itself: the scheduler calls `fireSkipped`, the runner's outcome becomes `runFinished`, and
 * a daemon built without metrics gets `noMetrics`.
 *
 * Gauges of queued, running and waiting runs are read from the store at scrape time
 * (`countRuns`, over partial indexes), so they are right even for runs another daemon or a
 * `flux event` enqueued. Labels that come from outside (a request's path, an event's name)
 * are bounded: past a number of distinct values, the rest share one label value, so a client
 * probing random paths cannot grow the registry without end.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EscalationCount, RunCount } from '../store/store.js';

/** What the daemon's parts report. Every method is cheap and never throws. */
export interface DaemonMetrics {
  /** A run began its first attempt (`trigger`: webhook, schedule, event, manual). */
  runStarted(workflow: string, trigger: string): void;
  /** A run went on after a wait (`wake`) or after its daemon died (`rescue`). */
  runResumed(workflow: string, reason: 'wake' | 'rescue'): void;
  /** A run ended: succeeded, failed, escalated, cancelled, rejected. `ms`: this attempt's time. */
  runFinished(workflow: string, status: string, ms: number): void;
  /** A step ran to an end in this attempt (steps replayed from the journal are not counted). */
  stepFinished(workflow: string, status: string, ms: number): void;
  /** The owner was told of a failure (`delivered`), or the telling failed. */
  escalation(workflow: string, delivered: boolean): void;
  /** A webhook request was answered; `path` is undefined for a path no workflow serves. */
  webhookRequest(path: string | undefined, status: number): void;
  /** A schedule fire started `ms` after its scheduled time. */
  fireLateness(workflow: string, ms: number): void;
  /** A schedule fire did not run (`overlap: skip`, a catch-up cap). */
  /** A fire not run: `overlap` (the previous run was still going) or `missed` (the daemon was down; `count` of them). */
  fireSkipped(workflow: string, reason?: string, count?: number): void;
  /** An event was delivered: how many waiting runs it woke and how many runs it started. */
  eventDelivered(event: string, woken: number, started: number): void;
  /**
   * A SIGHUP reload ended: `ok`; `partial` when some file with errors was kept at its old
   * version or not served; `failed` when nothing changed (the files or the store failed).
   */
  reloaded(outcome: 'ok' | 'partial' | 'failed'): void;
  /** A poll ended (`ok` or `failed`), with the failed polls in a row now and the runs it started. */
  polled(workflow: string, outcome: 'ok' | 'failed', failuresInARow: number, started: number): void;
  /** An escalation's `then` call was made (`delivered`) or failed and will be tried again. */
  escalationThen(workflow: string, delivered: boolean): void;
}

/** Metrics that go nowhere, for a daemon or a test that does not serve /metrics. */
export const noMetrics: DaemonMetrics = {
  runStarted() {}, runResumed() {}, runFinished() {}, stepFinished() {}, escalation() {}, webhookRequest() {},
  fireLateness() {}, fireSkipped() {}, eventDelivered() {}, reloaded() {}, polled() {}, escalationThen() {},
};

/** What a scrape reads besides the counters. */
export interface MetricsSource {
  /** Live runs by workflow and state (the store's `countRuns`). */
  countRuns(): Promise<readonly RunCount[]>;
  /** The workflows being served now, so each shows 0 rather than nothing. */
  workflows(): readonly string[];
  /** Unacknowledged escalations by workflow, and those overdue (the store's `countEscalations`). */
  countEscalations?(): Promise<readonly EscalationCount[]>;
}

/** A Prometheus registry behind DaemonMetrics, and its text exposition. */
export interface PrometheusMetrics extends DaemonMetrics {
  /** The exposition: the content type to send and the text. */
  render(): Promise<{ readonly contentType: string; readonly body: string }>;
}

/** Distinct values an outside label keeps before the rest are counted under `OTHER`. */
export const MAX_LABEL_VALUES = 200;
/** Where values past the bound are counted. No path or event name can be this (they have no spaces). */
export const OTHER = '(other)';
/** The path label of a request to a path no workflow serves. */
export const UNROUTED = '(unrouted)';

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const LATENESS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 60, 300];
const LIVE_STATES = ['queued', 'running', 'waiting'] as const;

/** Creates the daemon's registry, with Node's process metrics (memory, CPU, event-loop lag) beside flux's own. */
export function createPrometheusMetrics(source: MetricsSource): PrometheusMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const started = new Counter({ name: 'flux_runs_started_total', help: 'Runs that began their first attempt, by workflow and trigger.', labelNames: ['workflow', 'trigger'], registers });
  const resumed = new Counter({ name: 'flux_runs_resumed_total', help: 'Runs taken up again: after a wait (wake) or after their daemon died (rescue).', labelNames: ['workflow', 'reason'], registers });
  const finished = new Counter({ name: 'flux_runs_finished_total', help: 'Runs that ended, by workflow and final status.', labelNames: ['workflow', 'status'], registers });
  const runSeconds = new Histogram({ name: 'flux_run_attempt_duration_seconds', help: 'Time of the attempt that ended a run, by workflow and status.', labelNames: ['workflow', 'status'], buckets: SECONDS, registers });
  const stepSeconds = new Histogram({ name: 'flux_step_duration_seconds', help: 'Time of each top-level step run (not replayed), by workflow and status.', labelNames: ['workflow', 'status'], buckets: SECONDS, registers });
  const escalations = new Counter({ name: 'flux_escalations_total', help: 'Escalations to a workflow owner, by whether the message was delivered.', labelNames: ['workflow', 'delivered'], registers });
  const webhooks = new Counter({ name: 'flux_webhook_requests_total', help: 'Webhook requests answered, by path and HTTP status.', labelNames: ['path', 'status'], registers });
  const lateness = new Histogram({ name: 'flux_schedule_lateness_seconds', help: 'How long after its scheduled time a schedule fire started.', labelNames: ['workflow'], buckets: LATENESS, registers });
  const skipped = new Counter({ name: 'flux_schedule_fires_skipped_total', help: 'Schedule fires that did not run, by workflow and reason.', labelNames: ['workflow', 'reason'], registers });
  const delivered = new Counter({ name: 'flux_events_delivered_total', help: 'Events delivered, by event name.', labelNames: ['event'], registers });
  const eventRuns = new Counter({ name: 'flux_event_runs_total', help: 'Runs an event delivery woke or started, by event name.', labelNames: ['event', 'effect'], registers });
  const reloads = new Counter({ name: 'flux_reloads_total', help: 'SIGHUP reloads of the workflow files, by outcome.', labelNames: ['outcome'], registers });
  const polls = new Counter({ name: 'flux_polls_total', help: 'Polls of poll triggers, by workflow and outcome (ok, failed).', labelNames: ['workflow', 'outcome'], registers });
  const pollRuns = new Counter({ name: 'flux_poll_runs_started_total', help: 'Runs started for new items found by polls, by workflow.', labelNames: ['workflow'], registers });
  const pollFailures = new Gauge({ name: 'flux_poll_failures', help: 'Failed polls in a row now, by workflow (0 after a success).', labelNames: ['workflow'], registers });
  new Gauge({
    name: 'flux_runs', help: 'Runs queued, running and waiting now, by workflow (read from the store at scrape).', labelNames: ['workflow', 'status'], registers,
    async collect() {
      const counts = await source.countRuns();
      this.reset();
      for (const workflow of source.workflows()) for (const status of LIVE_STATES) this.set({ workflow, status }, 0);
      for (const c of counts) this.set({ workflow: c.workflow, status: c.status }, c.count);
    },
  });
  const thenCalls = new Counter({ name: 'flux_escalation_then_total', help: 'Second calls of escalations not acknowledged in time (on_error.escalate.then), by whether delivered; a failed one is retried.', labelNames: ['workflow', 'delivered'], registers });
  const countEscalations = source.countEscalations;
  if (countEscalations) {
    // One store read per scrape feeds both gauges: the first collects, the second reuses it.
    let last: Promise<readonly EscalationCount[]> | undefined;
    const gauge = (name: string, help: string, pick: (c: EscalationCount) => number, first: boolean) => new Gauge({
      name, help, labelNames: ['workflow'], registers,
      async collect() {
        if (first || !last) last = countEscalations();
        const counts = await last;
        this.reset();
        for (const workflow of source.workflows()) this.set({ workflow }, 0);
        for (const c of counts) this.set({ workflow: c.workflow }, pick(c));
      },
    });
    gauge('flux_escalations_unacknowledged', 'Escalations with ack_within not yet acknowledged, by workflow (read from the store at scrape).', (c) => c.unacknowledged, true);
    gauge('flux_escalations_overdue', 'Unacknowledged escalations past their ack_within deadline, by workflow.', (c) => c.overdue, false);
  }
  const paths = boundedLabel();
  const events = boundedLabel();
  return {
    runStarted: (workflow, trigger) => started.inc({ workflow, trigger }),
    runResumed: (workflow, reason) => resumed.inc({ workflow, reason }),
    runFinished: (workflow, status, ms) => {
      finished.inc({ workflow, status });
      runSeconds.observe({ workflow, status }, seconds(ms));
    },
    stepFinished: (workflow, status, ms) => stepSeconds.observe({ workflow, status }, seconds(ms)),
    escalation: (workflow, ok) => escalations.inc({ workflow, delivered: String(ok) }),
    webhookRequest: (path, status) => webhooks.inc({ path: path === undefined ? UNROUTED : paths(path), status: String(status) }),
    fireLateness: (workflow, ms) => lateness.observe({ workflow }, seconds(ms)),
    fireSkipped: (workflow, reason = 'overlap', count = 1) => skipped.inc({ workflow, reason }, count),
    eventDelivered: (event, woken, startedRuns) => {
      const name = events(event);
      delivered.inc({ event: name });
      if (woken > 0) eventRuns.inc({ event: name, effect: 'woke' }, woken);
      if (startedRuns > 0) eventRuns.inc({ event: name, effect: 'started' }, startedRuns);
    },
    reloaded: (outcome) => reloads.inc({ outcome }),
    polled: (workflow, outcome, failuresInARow, startedRuns) => {
      polls.inc({ workflow, outcome });
      pollFailures.set({ workflow }, failuresInARow);
      if (startedRuns > 0) pollRuns.inc({ workflow }, startedRuns);
    },
    escalationThen: (workflow, ok) => thenCalls.inc({ workflow, delivered: String(ok) }),
    render: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  };
}

/** A label for outside values: the first MAX_LABEL_VALUES distinct values as they are, the rest as OTHER. */
function boundedLabel(): (value: string) => string {
  const seen = new Set<string>();
  return (value) => {
    if (seen.has(value)) return value;
    if (seen.size >= MAX_LABEL_VALUES) return OTHER;
    seen.add(value);
    return value;
  };
}

function seconds(ms: number): number {
  return Math.max(0, ms) / 1000;
}
