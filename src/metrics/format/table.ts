/**
 * The terminal table of `flux metrics`, the default on a terminal. It reads top-down as a
 * budget review would: leaked runs first when there are any (the goal is zero, so each one is
 * a task), then what the automations are worth, then each workflow, each owner, the steps that
 * fail most, and how many log lines could not be read. It fits the given width (80 columns at
 * least): long names are cut with an ellipsis and, on narrow terminals, the least important
 * columns are dropped. Every name, owner, step id and message comes from run logs, so each is
 * passed through escapeControl before it can reach the terminal.
 */
import { Chalk } from 'chalk';
import { escapeControl } from '../../text/escape.js';
import type { MetricsReport } from '../report.js';
import { render, seg, wrap, type Line, type Painter } from './cells.js';
import { grid } from './grid.js';
import { liveSection } from './table-live.js';
import { ownersGrid, stepsGrid, workflowsGrid } from './table-grids.js';
import { formatCountLong, formatDuration, formatHoursLong, formatMoney, formatPercent, formatSpeedup, formatTime } from './units.js';

/** Options of the table: colour (chalk, off for NO_COLOR and pipes) and the width to fit. */
export interface TableOptions {
  readonly color: boolean;
  readonly width: number;
}

/** How many workflows' "faster than by hand" lines the summary lists when the totals have none. */
const SPEEDUP_LINES = 5;
/** How many warnings are quoted; the rest are counted. */
const WARNING_LINES = 3;

const esc = (text: string): string => escapeControl(text);

/** Renders the report as a table for a terminal. */
export function formatTable(report: MetricsReport, options: TableOptions): string {
  const width = Number.isFinite(options.width) && options.width >= 1 ? Math.floor(options.width) : 80;
  const lines: Line[] = [
    ...leakHeadline(report, width),
    ...summary(report, width),
    ...section('Workflows', report.workflows.length === 0 ? [[seg('  no runs in this window', 'dim')]] : grid(workflowsGrid(report, width), width)),
    ...(report.owners.length === 0 ? [] : section('Owners', grid(ownersGrid(report), width))),
    ...(report.top_failing_steps.length === 0 ? [] : section('Top failing steps', grid(stepsGrid(report), width))),
    ...(report.live === undefined ? [] : liveSection(report.live, width)),
    ...warnings(report, width),
  ];
  return render(lines, width, painter(options.color));
}

function painter(color: boolean): Painter {
  if (!color) {
    const same = (s: string): string => s;
    return { bold: same, dim: same, red: same, green: same, yellow: same, alarm: same };
  }
  // Level 1 (16 colours): what every terminal that takes colour at all understands. Whether
  // to colour is the caller's decision (NO_COLOR, a pipe), so chalk's own detection is bypassed.
  const c = new Chalk({ level: 1 });
  return { bold: c.bold, dim: c.dim, red: c.red, green: c.green, yellow: c.yellow, alarm: c.bold.red };
}

function section(title: string, body: readonly Line[]): Line[] {
  return [[], [seg(title, 'bold')], ...body];
}

/** The leaked runs, each with what an owner needs to find it: id, time, workflow, step, why. */
function leakHeadline(report: MetricsReport, width: number): Line[] {
  const leaked = report.totals.leaked;
  if (leaked === 0 && report.leaked_runs.length === 0) return [];
  const started = report.totals.runs.started;
  const head = `${formatCountLong(leaked)} leaked run${leaked === 1 ? '' : 's'}: ${formatPercent(report.totals.leakage_rate)} of ${formatCountLong(started)} started. The goal is zero; each one failed or stopped with nobody told.`;
  const lines: Line[] = wrap(head, width, 2).map((text) => [seg(text, 'alarm')]);
  for (const run of report.leaked_runs) {
    const where = `${esc(run.workflow)} › ${run.last_step === null ? '(no step ran)' : esc(run.last_step)}`;
    // Where it stopped comes first, as the longest and most telling part; the id, long and
    // only needed to look the run up, goes with the reason below.
    lines.push([seg(`  ${esc(formatTime(run.last_record_at))}  `), seg(where, 'bold')]);
    lines.push(...wrap(`${esc(run.run_id)}: ${esc(run.reason)}`, width - 4, 2).map((text): Line => [seg('    '), seg(text, 'red')]));
  }
  if (report.leaked_runs_omitted > 0) {
    lines.push([seg(`  … and ${formatCountLong(report.leaked_runs_omitted)} more not listed`, 'red')]);
  }
  lines.push([]);
  return lines;
}

const LABEL = 14;
const FIGURE = 12;

/** One line of the summary band: a label, a figure right-aligned, and words after it. */
function band(label: string, figure: string, detail: string, width: number, style?: 'green' | 'red' | 'bold'): Line[] {
  const lead = `  ${label.padEnd(LABEL)}${figure.padStart(FIGURE)}`;
  const rest = wrap(detail, Math.max(10, width - lead.length - 3), 0);
  return rest.map((text, i) =>
    i === 0 ? [seg(`  ${label.padEnd(LABEL)}`, 'dim'), seg(figure.padStart(FIGURE), style ?? 'bold'), seg(text === '' ? '' : `   ${text}`)] : [seg(' '.repeat(lead.length + 3) + text)],
  );
}

function summary(report: MetricsReport, width: number): Line[] {
  const t = report.totals;
  const since = report.window.since === null ? 'the first record' : esc(formatTime(report.window.since, true));
  const until = esc(formatTime(report.window.until, true));
  const lines: Line[] = [[seg('flux metrics', 'bold'), seg(`  ${since} → ${until}, by ${report.by}, ${formatCountLong(report.input.records)} records in ${formatCountLong(report.input.files)} files`, 'dim')]];
  const value = t.reclaimed_value === null ? '' : `worth ${esc(formatMoney(t.reclaimed_value, t.currency))}`;
  lines.push(...band('reclaimed', formatHoursLong(t.reclaimed_hours), value, width, 'green'));
  const states = (['succeeded', 'failed', 'escalated', 'cancelled', 'rejected', 'running', 'waiting', 'stalled'] as const)
    .filter((k) => t.runs[k] > 0)
    .map((k) => `${formatCountLong(t.runs[k])} ${k}`);
  lines.push(...band('runs', formatCountLong(t.runs.started), states.join(', '), width));
  lines.push(...band('success', formatPercent(t.success_rate), `errors ${formatPercent(t.error_rate)}`, width));
  lines.push(...band('leaked', formatCountLong(t.leaked), t.leaked === 0 ? 'none: every run ended or is waiting' : `${formatPercent(t.leakage_rate)} of runs started`, width, t.leaked === 0 ? 'green' : 'red'));
  const r = t.response_seconds;
  lines.push(...band('response p50', formatDuration(r.p50), `p90 ${formatDuration(r.p90)}, p99 ${formatDuration(r.p99)}`, width));
  lines.push(...speedups(report, width));
  const c = t.cycle_seconds;
  lines.push(...band('cycle p50', formatDuration(c.p50), `p90 ${formatDuration(c.p90)}, p99 ${formatDuration(c.p99)}`, width));
  const a = t.ack_seconds;
  if (a.p50 !== null) lines.push(...band('ack p50', formatDuration(a.p50), `p90 ${formatDuration(a.p90)}, p99 ${formatDuration(a.p99)}`, width));
  return lines;
}

/** Response time against the manual baseline: the totals' when there is one, else each workflow's. */
function speedups(report: MetricsReport, width: number): Line[] {
  const indent = 2 + LABEL + FIGURE + 3;
  const say = (who: string | null, speedup: number, baseline: number | null): Line[] => {
    const against = baseline === null ? '' : ` (${formatDuration(baseline)})`;
    const text = `${who === null ? '' : `${who}: `}${formatSpeedup(speedup)}${against}`;
    return wrap(text, width - indent, 2).map((l) => [seg(' '.repeat(indent)), seg(l, speedup >= 1 ? 'green' : 'yellow')]);
  };
  const t = report.totals;
  if (t.response_speedup !== null) return say(null, t.response_speedup, t.response_baseline_seconds);
  const withBaseline = report.workflows.filter((w) => w.response_speedup !== null);
  const lines = withBaseline.slice(0, SPEEDUP_LINES).flatMap((w) => say(esc(w.name), w.response_speedup ?? 0, w.response_baseline_seconds));
  if (withBaseline.length > SPEEDUP_LINES) lines.push([seg(`${' '.repeat(indent)}… and ${withBaseline.length - SPEEDUP_LINES} more workflows with a baseline`, 'dim')]);
  return lines;
}

function warnings(report: MetricsReport, width: number): Line[] {
  const count = report.warnings.length + report.warnings_omitted;
  if (count === 0) return [[], [seg('0 warnings: every log line was read', 'dim')]];
  const lines: Line[] = [[], [seg(`${formatCountLong(count)} warning${count === 1 ? '' : 's'}`, 'yellow'), seg(': lines or files that could not be used (--format json lists them)', 'dim')]];
  for (const w of report.warnings.slice(0, WARNING_LINES)) {
    const where = w.line === null ? esc(w.file) : `${esc(w.file)}:${w.line}`;
    lines.push(...wrap(`${where}: ${esc(w.message)}`, width - 2, 4).map((l) => [seg(`  ${l}`)]));
  }
  if (count > WARNING_LINES) lines.push([seg(`  … and ${formatCountLong(count - Math.min(WARNING_LINES, report.warnings.length))} more`, 'dim')]);
  return lines;
}
