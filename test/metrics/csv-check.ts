/**
 * Checks CSV output of `flux metrics` against its report: an RFC 4180 parser written here (so a
 * formatting bug cannot hide behind a lenient reader), and every cell of every row compared with
 * the report. Shared by the renderer's tests and the end-to-end test.
 */
import { expect } from 'vitest';
import { CSV_COLUMNS } from '../../src/metrics/format/csv.js';
import type { MetricsReport, PeriodFigures, WorkflowFigures } from '../../src/metrics/report.js';

/** RFC 4180: fields split on commas, quoted fields may hold commas, CRLF and doubled quotes; records end in CRLF. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue; }
      if (c === '"') { quoted = false; i++; continue; }
      field += c;
      i++;
      continue;
    }
    if (c === '"') {
      if (field !== '') throw new Error(`a quote inside an unquoted field at ${i}`);
      quoted = true;
    } else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else if (c === '\r' || c === '\n') {
      throw new Error(`a bare line break outside quotes at ${i}`);
    } else {
      field += c;
    }
    i++;
  }
  if (quoted) throw new Error('an unterminated quote');
  if (field !== '' || row.length > 0) throw new Error('the last record has no CRLF');
  return rows;
}

/** The cells a row must have: numbers as numbers (compared to 6 places), null as empty. */
export function expectedRow(w: WorkflowFigures, p: PeriodFigures, name: string, owner: string): (string | number)[] {
  const r = p.runs;
  const n = (v: number | null): string | number => (v === null ? '' : v);
  return [
    name, owner, p.start, r.started, r.succeeded, r.failed, r.escalated, r.cancelled, r.rejected, r.running, r.waiting, r.stalled, p.leaked,
    p.reclaimed_hours, n(p.reclaimed_value), w.currency ?? '',
    n(p.response_seconds.p50), n(p.response_seconds.p90), n(p.response_seconds.p99),
    n(p.cycle_seconds.p50), n(p.cycle_seconds.p90), n(p.cycle_seconds.p99),
    n(p.ack_seconds.p50), n(p.ack_seconds.p90), n(p.ack_seconds.p99),
  ];
}

/** Expects one parsed row to hold the expected cells: text exactly, numbers to 6 places. */
export function expectCells(actual: readonly string[], expected: readonly (string | number)[]): void {
  expect(actual).toHaveLength(CSV_COLUMNS.length);
  expected.forEach((want, i) => {
    const got = actual[i]!;
    if (typeof want === 'string') {
      expect(got, CSV_COLUMNS[i]).toBe(want);
    } else {
      expect(got, CSV_COLUMNS[i]).toMatch(/^-?\d+(\.\d+)?$/);
      expect(Number(got), CSV_COLUMNS[i]).toBeCloseTo(want, 6);
    }
  });
}

/**
 * Expects `text` (the report as CSV) to be the header, then one row per workflow and period,
 * then the total rows, each carrying that period's figures; `shown` maps a workflow or owner
 * name to how the CSV shows it (by default, guarded against formula injection).
 */
export function expectCsvMatches(text: string, report: MetricsReport, shown: (name: string) => string = spreadsheetSafe): void {
  const rows = parseCsv(text);
  expect(rows[0]).toEqual([...CSV_COLUMNS]);
  let at = 1;
  for (const w of [...report.workflows, report.totals]) {
    for (const p of w.periods) expectCells(rows[at++]!, expectedRow(w, p, shown(w.name), shown(w.owner ?? '')));
  }
  expect(at).toBe(rows.length);
}

/** Text as the CSV must show it: a leading `'` where a spreadsheet would read a formula. */
export function spreadsheetSafe(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}
