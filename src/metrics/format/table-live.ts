/**
 * The "Live" section of the terminal table (`flux metrics --store`): per workflow, the runs
 * queued, running and waiting now and the escalations awaiting an answer, as the daemons' store
 * says; the polls failing; and how the store settled runs whose logs have no end. Workflow
 * names and poll errors come from the store, outside data: escaped like every other name.
 */
import { escapeControl } from '../../text/escape.js';
import type { LiveFigures } from '../report.js';
import { seg, wrap, type Line, type Segment } from './cells.js';
import { grid, type GridColumn } from './grid.js';
import { formatCount, formatCountLong, formatTime } from './units.js';

const esc = (text: string): string => escapeControl(text);

/** The section's lines, title first. */
export function liveSection(live: LiveFigures, width: number): Line[] {
  const lines: Line[] = [[], [seg('Live', 'bold'), seg(`  the store now, read ${esc(formatTime(live.read_at))}`, 'dim')]];
  // A URL has no spaces to wrap at, and a cut one cannot be copied: it is broken anywhere instead.
  const room = Math.max(20, width - 8);
  const store = esc(live.store).match(new RegExp(`.{1,${room}}`, 'gu')) ?? [''];
  lines.push(...store.map((part, i): Line => [seg(i === 0 ? `  store ${part}` : `        ${part}`, 'dim')]));
  const names = [...new Set([...live.runs.map((r) => r.workflow), ...live.escalations.map((e) => e.workflow)])].sort();
  if (names.length === 0) {
    lines.push([seg('  no run in flight and no escalation awaiting an answer', 'dim')]);
  } else {
    const runs = new Map(live.runs.map((r) => [r.workflow, r]));
    const escs = new Map(live.escalations.map((e) => [e.workflow, e]));
    const rows = [...names, null];
    const pick = (f: (name: string) => number, total: number): Segment[] => rows.map((n) => seg(formatCount(n === null ? total : f(n))));
    const sum = (k: 'unacknowledged' | 'overdue'): number => live.escalations.reduce((s, e) => s + e[k], 0);
    const overdue = (n: string | null): Segment => {
      const v = n === null ? sum('overdue') : escs.get(n)?.overdue ?? 0;
      return seg(formatCount(v), v > 0 ? 'red' : undefined);
    };
    const columns: GridColumn[] = [
      { top: 'runs now', head: 'queued', width: 6, align: 'right', cells: pick((n) => runs.get(n)?.queued ?? 0, live.totals.queued) },
      { head: 'running', width: 7, align: 'right', cells: pick((n) => runs.get(n)?.running ?? 0, live.totals.running) },
      { head: 'waiting', width: 7, align: 'right', cells: pick((n) => runs.get(n)?.waiting ?? 0, live.totals.waiting) },
      { top: 'escalations', head: 'unacked', width: 7, align: 'right', cells: pick((n) => escs.get(n)?.unacknowledged ?? 0, sum('unacknowledged')) },
      { head: 'overdue', width: 7, align: 'right', cells: rows.map(overdue) },
    ];
    lines.push(...grid({ head: 'workflow', names: rows.map((n) => seg(n === null ? 'total' : esc(n))), minName: 16, columns, footer: 1 }, width));
  }
  for (const p of live.failing_polls) {
    const error = p.last_error === null ? '' : `: ${esc(p.last_error)}`;
    lines.push(...wrap(`poll of ${esc(p.workflow)} failing, ${formatCountLong(p.failures)} in a row${error}`, width - 2, 4).map((l): Line => [seg(`  ${l}`, 'yellow')]));
  }
  if (live.open_runs_checked > 0) {
    const parts = [`${formatCountLong(live.open_runs_live)} still in flight (not leaked)`];
    if (live.log_incomplete_runs > 0) parts.push(`${formatCountLong(live.log_incomplete_runs)} finished there (log incomplete)`);
    const text = `runs with no end in the logs: ${formatCountLong(live.open_runs_checked)} looked up in the store, ${parts.join(', ')}`;
    lines.push(...wrap(text, width - 2, 4).map((l): Line => [seg(`  ${l}`, 'dim')]));
  }
  return lines;
}
