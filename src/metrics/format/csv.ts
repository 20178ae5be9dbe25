/**
 * `flux metrics --format csv`: one row per workflow and period (`--by`), then the same rows
 * for the `total` workflow, under a header row; for spreadsheets and BI tools. RFC 4180:
 * CRLF line ends, a field with a comma, quote, CR or LF is quoted and its quotes doubled.
 * Numbers are plain (no units, no separators, a dot for decimals, never an exponent); a
 * figure that cannot be computed (null) is an empty cell. A workflow with no period (no run
 * in the window) has no row.
 */
import { escapeControl } from '../../text/escape.js';
import type { MetricsReport, PeriodFigures, WorkflowFigures } from '../report.js';

/** The header, in order; a public contract like the JSON names: add columns at the end only. */
export const CSV_COLUMNS = [
  'workflow', 'owner', 'period_start',
  'started', 'succeeded', 'failed', 'escalated', 'cancelled', 'rejected', 'running', 'waiting', 'stalled', 'leaked',
  'reclaimed_hours', 'reclaimed_value', 'currency',
  'response_p50_seconds', 'response_p90_seconds', 'response_p99_seconds',
  'cycle_p50_seconds', 'cycle_p90_seconds', 'cycle_p99_seconds',
  'ack_p50_seconds', 'ack_p90_seconds', 'ack_p99_seconds',
] as const;

/** Renders the report as CSV: one row per workflow and period. */
export function formatCsv(report: MetricsReport): string {
  const rows: string[] = [CSV_COLUMNS.join(',')];
  for (const workflow of [...report.workflows, report.totals]) {
    for (const period of workflow.periods) rows.push(row(workflow, period).join(','));
  }
  return `${rows.join('\r\n')}\r\n`;
}

function row(w: WorkflowFigures, p: PeriodFigures): string[] {
  const r = p.runs;
  return [
    text(w.name), w.owner === null ? '' : text(w.owner), text(p.start),
    ...[r.started, r.succeeded, r.failed, r.escalated, r.cancelled, r.rejected, r.running, r.waiting, r.stalled, p.leaked].map(num),
    num(p.reclaimed_hours), num(p.reclaimed_value), w.currency === null ? '' : text(w.currency),
    num(p.response_seconds.p50), num(p.response_seconds.p90), num(p.response_seconds.p99),
    num(p.cycle_seconds.p50), num(p.cycle_seconds.p90), num(p.cycle_seconds.p99),
    num(p.ack_seconds.p50), num(p.ack_seconds.p90), num(p.ack_seconds.p99),
  ];
}

/**
 * A cell of outside text (a workflow name, an owner, a currency: all from run logs).
 *
 * Formula injection: a spreadsheet runs a cell that starts with = + - @ (or a tab or CR,
 * which some strip first) as a formula, so a workflow named `=HYPERLINK(...)` would act when
 * the file is opened. Such a cell gets a leading apostrophe, the OWASP-recommended guard,
 * which spreadsheets show as text. Numbers are ours and never prefixed.
 *
 * Control characters other than newline and tab are shown escaped (`\e`), as in the
 * terminal: a CSV is as often `cat` to a terminal as opened, and no legitimate name holds an
 * escape sequence. Newlines stay and are quoted, as RFC 4180 allows.
 */
function text(value: string): string {
  let v = escapeControl(value, { keepLines: true });
  if (/^[=+\-@\t\r]/.test(v)) v = `'${v}`;
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/**
 * A number as plain decimal: rounded to 6 places (binary fractions such as 0.1 + 0.2 read
 * 0.3, and no figure here is meaningful beyond a microsecond or a millionth of an hour),
 * never in exponent form, which some importers read as text.
 */
function num(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return '';
  const rounded = Number(value.toFixed(6));
  if (rounded === 0) return '0';
  if (Math.abs(rounded) >= 1e21) return BigInt(Math.round(rounded)).toString();
  const s = String(rounded);
  return s.includes('e') ? rounded.toFixed(6).replace(/\.?0+$/, '') : s;
}
