/**
 * The three grids of the terminal table: one row per workflow (with the total), per owner,
 * and per failing step. Names come from run logs and are escaped here, before layout, so a
 * width is measured on what will actually be shown.
 */
import { escapeControl } from '../../text/escape.js';
import type { MetricsReport, WorkflowFigures } from '../report.js';
import { displayWidth, seg, type Line, type Segment } from './cells.js';
import type { Grid, GridColumn } from './grid.js';
import { formatCount, formatDuration, formatHours, formatMoney, formatPercent, sparkline } from './units.js';

const esc = (text: string): string => escapeControl(text);

/** Room the workflow grid's fixed columns take: name gap, seven columns and their gaps. */
const WORKFLOW_FIXED = 2 + (6 + 6 + 6 + 7 + 7 + 7 + 9) + 6;
/** A workflow name is never cut shorter than this to make room for a longer trend. */
const NAME_FLOOR = 16;
/** The longest trend shown, in periods (the most recent ones). */
const TREND_MAX = 30;

/** One row per workflow, then the total: runs, success, leaks, response and cycle time, hours, trend. */
export function workflowsGrid(report: MetricsReport, width: number): Grid {
  const rows: readonly WorkflowFigures[] = [...report.workflows, report.totals];
  const names = [...report.workflows.map((w) => seg(esc(w.name))), seg('total', 'bold')];
  const bold = (row: number): 'bold' | undefined => (row === rows.length - 1 ? 'bold' : undefined);
  const column = (head: string, w: number, cell: (f: WorkflowFigures) => string, extra: Partial<GridColumn> = {}): GridColumn => ({
    head,
    width: w,
    align: 'right',
    cells: rows.map((f, i) => seg(cell(f), bold(i))),
    ...extra,
  });
  const columns: GridColumn[] = [
    column('runs', 6, (f) => formatCount(f.runs.started)),
    column('ok', 6, (f) => formatPercent(f.success_rate)),
    { ...column('leak', 6, (f) => formatCount(f.leaked)), cells: rows.map((f) => seg(formatCount(f.leaked), f.leaked > 0 ? 'red' : undefined)) },
    column('p50', 7, (f) => formatDuration(f.response_seconds.p50)),
    column('p90', 7, (f) => formatDuration(f.response_seconds.p90), { top: 'response', drop: 2 }),
    column('p50', 7, (f) => formatDuration(f.cycle_seconds.p50), { top: 'cycle', drop: 1 }),
    column('hours', 9, (f) => formatHours(f.reclaimed_hours), { top: 'reclaimed' }),
  ];
  // Time to acknowledgement, once an escalation asked for one; the first column dropped when narrow.
  if (rows.some((f) => f.ack_seconds.p50 !== null)) {
    columns.splice(6, 0, column('p50', 7, (f) => formatDuration(f.ack_seconds.p50), { top: 'ack', drop: 3 }), column('p90', 7, (f) => formatDuration(f.ack_seconds.p90), { drop: 4 }));
  }
  const trend = trendColumn(report, rows, width);
  if (trend) columns.push(trend);
  return { head: 'workflow', names, minName: NAME_FLOOR, columns, footer: 1 };
}

/**
 * Runs started per period as a sparkline, the most recent periods that fit. Periods are
 * matched by their start, since a workflow's series only spans its own first to last run.
 */
function trendColumn(report: MetricsReport, rows: readonly WorkflowFigures[], width: number): GridColumn | null {
  const starts = [...new Set(rows.flatMap((f) => f.periods.map((p) => p.start)))].sort();
  if (starts.length === 0) return null;
  const longest = Math.max(...report.workflows.map((w) => displayWidth(esc(w.name))), 5);
  const room = width - WORKFLOW_FIXED - 1 - Math.min(longest, NAME_FLOOR);
  // "per month" would crowd the trend out of 80 columns; the period alone still says it.
  const head = `per ${report.by}`.length <= room ? `per ${report.by}` : report.by;
  const shown = Math.max(1, Math.min(starts.length, TREND_MAX, room));
  const recent = starts.slice(-shown);
  const cells = rows.map((f): Segment => {
    const byStart = new Map(f.periods.map((p) => [p.start, p.runs.started]));
    return seg(sparkline(recent.map((s) => byStart.get(s) ?? 0)));
  });
  return { top: 'started', head, width: Math.max(head.length, shown), align: 'left', cells, drop: 3 };
}

/** Per owner: their workflows, runs, leaks and what they reclaimed. */
export function ownersGrid(report: MetricsReport): Grid {
  const owners = report.owners;
  const cell = (text: string, style?: 'red'): Segment => seg(text, style);
  const columns: GridColumn[] = [
    { head: 'workflows', width: 9, align: 'right', cells: owners.map((o) => cell(formatCount(o.workflows.length))), drop: 1 },
    { head: 'runs', width: 6, align: 'right', cells: owners.map((o) => cell(formatCount(o.runs_started))) },
    { head: 'leaked', width: 6, align: 'right', cells: owners.map((o) => cell(formatCount(o.leaked), o.leaked > 0 ? 'red' : undefined)) },
    { head: 'leakage', width: 7, align: 'right', cells: owners.map((o) => cell(formatPercent(o.leakage_rate))) },
    { top: 'reclaimed', head: 'hours', width: 9, align: 'right', cells: owners.map((o) => cell(formatHours(o.reclaimed_hours))) },
    { head: 'value', width: 14, align: 'right', cells: owners.map((o) => cell(esc(formatMoney(o.reclaimed_value, o.currency)))), drop: 2 },
  ];
  return { head: 'owner', names: owners.map((o) => seg(esc(o.owner))), minName: 16, columns };
}

/** The steps that fail most, each with its most common error on the line below. */
export function stepsGrid(report: MetricsReport): Grid {
  const steps = report.top_failing_steps;
  const notes = new Map<number, Line>();
  steps.forEach((s, i) => {
    if (s.top_error === null) return;
    const text = `    most common (${formatCount(s.top_error.count)} of ${formatCount(s.failed)}): ${esc(s.top_error.message)}`;
    notes.set(i, [seg(text, 'dim')]);
  });
  const columns: GridColumn[] = [
    { head: 'failed', width: 6, align: 'right', cells: steps.map((s) => seg(formatCount(s.failed), 'red')) },
    { head: 'of', width: 6, align: 'right', cells: steps.map((s) => seg(formatCount(s.finished))), drop: 2 },
    { head: 'retries', width: 7, align: 'right', cells: steps.map((s) => seg(formatCount(s.retries))) },
    { head: 'p95', width: 7, align: 'right', cells: steps.map((s) => seg(formatDuration(s.duration_ms.p95 === null ? null : s.duration_ms.p95 / 1000))), drop: 1 },
  ];
  return { head: 'workflow › step', names: steps.map((s) => seg(`${esc(s.workflow)} › ${esc(s.step)}`)), minName: 20, columns, notes };
}
