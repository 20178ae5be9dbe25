// `flux metrics --format csv`: parsed back with the RFC 4180 parser of csv-check.ts, every cell of
// every row compared with the report it came from; quoting, formula injection and numbers.
import { describe, expect, it } from 'vitest';
import { CSV_COLUMNS, formatCsv } from '../../src/metrics/format/csv.js';
import type { MetricsReport, PeriodFigures, WorkflowFigures } from '../../src/metrics/report.js';
import { expectCells, expectedRow, parseCsv } from './csv-check.js';
import { sampleReport } from './sample-report.js';

describe('the sample report as CSV', () => {
  const text = formatCsv(sampleReport());
  const rows = parseCsv(text);

  it('has the header, then one row per workflow and period, then the total rows', () => {
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    expect(CSV_COLUMNS).toEqual([
      'workflow', 'owner', 'period_start', 'started', 'succeeded', 'failed', 'escalated', 'cancelled', 'rejected', 'running', 'waiting', 'stalled', 'leaked',
      'reclaimed_hours', 'reclaimed_value', 'currency', 'response_p50_seconds', 'response_p90_seconds', 'response_p99_seconds',
      'cycle_p50_seconds', 'cycle_p90_seconds', 'cycle_p99_seconds', 'ack_p50_seconds', 'ack_p90_seconds', 'ack_p99_seconds',
    ]);
    expect(rows).toHaveLength(1 + 7 + 7 + 7);
    expect(rows.slice(1).map((r) => `${r[0]} ${r[2]}`)).toEqual([
      ...['16', '17', '18', '19', '20', '21', '22'].map((d) => `invoice <b>&</b> "follow"\\e[31m-up 2026-11-${d}`),
      ...['16', '17', '18', '19', '20', '21', '22'].map((d) => `lead-intake 2026-11-${d}`),
      ...['16', '17', '18', '19', '20', '21', '22'].map((d) => `total 2026-11-${d}`),
    ]);
  });

  it('carries every figure of every period, empty where the report has null', () => {
    const report = sampleReport();
    let at = 1;
    for (const w of [...report.workflows, report.totals]) {
      const name = w.name === 'lead-intake' || w.name === 'total' ? w.name : 'invoice <b>&</b> "follow"\\e[31m-up';
      for (const p of w.periods) expectCells(rows[at++]!, expectedRow(w, p, name, w.owner ?? ''));
    }
    expect(at).toBe(rows.length);
    // Spot checks in the raw text, so a parser bug cannot hide a formatting one.
    expect(text).toContain('\r\nlead-intake,sales-ops@example.com,2026-11-18,10,9,1,0,0,0,0,0,0,1,0.9,40.5,USD,42,82,122,62,102,152,900,1800,1800\r\n');
    expect(text).toContain('\r\ntotal,,2026-11-19,0,0,0,0,0,0,0,0,0,0,0,0,USD,,,,,,,,,\r\n');
  });

  it('quotes the awkward name, doubling its quotes, and shows its escape character as text', () => {
    expect(text).toContain('\r\n"invoice <b>&</b> ""follow""\\e[31m-up",finance@example.com,2026-11-16,');
    expect(text).not.toMatch(/[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f-\u009f]/);
  });
});

/** A report whose one workflow has the given name and owner, and one period of the sample's. */
function named(name: string, owner: string | null, currency: string | null = 'USD'): MetricsReport {
  const r = sampleReport();
  const lead = r.workflows[1]!;
  const w: WorkflowFigures = { ...lead, name, owner, currency, periods: lead.periods.slice(0, 1) };
  return { ...r, workflows: [w], totals: { ...r.totals, periods: [] } };
}

describe('outside text', () => {
  it('keeps commas, quotes and line breaks inside one field (RFC 4180)', () => {
    const rows = parseCsv(formatCsv(named('a,b "c"\nd\te', 'x,y')));
    expect(rows).toHaveLength(2);
    expect(rows[1]![0]).toBe('a,b "c"\nd\te');
    expect(rows[1]![1]).toBe('x,y');
  });

  it('puts an apostrophe before text a spreadsheet would run as a formula', () => {
    for (const bad of ['=HYPERLINK("http://evil.example","click")', '+1+cmd', '-2+3', '@SUM(A1:A9)', '\t=1']) {
      const rows = parseCsv(formatCsv(named(bad, bad, bad)));
      expect(rows[1]![0], bad).toBe(`'${bad}`);
      expect(rows[1]![1], bad).toBe(`'${bad}`);
      expect(rows[1]![15], bad).toBe(`'${bad}`);
    }
    const safe = parseCsv(formatCsv(named('lead-intake=2', 'a@b.example')));
    expect(safe[1]!.slice(0, 2)).toEqual(['lead-intake=2', 'a@b.example']);
  });

  it('shows control characters as text, never raw', () => {
    const rows = parseCsv(formatCsv(named('x\u001b]0;pwned\u0007\r', 'o\u202e')));
    expect(rows[1]!.slice(0, 2)).toEqual(['x\\e]0;pwned\\x07\\r', 'o\\u202e']);
  });
});

describe('numbers and nulls', () => {
  it('writes numbers plainly: no exponent, no float noise, dot decimals', () => {
    const r = named('w', null, null);
    const w = r.workflows[0]!;
    const p: PeriodFigures = {
      ...w.periods[0]!,
      runs: { ...w.periods[0]!.runs, started: 12_345_678_901 },
      reclaimed_hours: 0.1 + 0.2,
      reclaimed_value: 1e21,
      response_seconds: { p50: 1e-9, p90: 0.0000015, p99: 123456.5 },
      cycle_seconds: { p50: null, p90: null, p99: null },
      ack_seconds: { p50: 90, p90: null, p99: null },
    };
    const text = formatCsv({ ...r, workflows: [{ ...w, periods: [p] }] });
    expect(text.split('\r\n')[1]).toBe('w,,2026-11-16,12345678901,12,0,0,0,0,0,0,0,0,0.3,1000000000000000000000,,0,0.000002,123456.5,,,,90,,');
  });

  it('with no runs, is the header alone', () => {
    const r = sampleReport();
    expect(formatCsv({ ...r, workflows: [], totals: { ...r.totals, periods: [] } })).toBe(`${CSV_COLUMNS.join(',')}\r\n`);
  });
});
