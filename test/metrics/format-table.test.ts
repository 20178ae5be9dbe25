// The terminal table of `flux metrics`: every figure of the sample report where it belongs,
// leaks first, outside text escaped, colour only when asked, and no line wider than the
// terminal, whatever the names and numbers.
import { describe, expect, it } from 'vitest';
import { displayWidth, truncate } from '../../src/metrics/format/cells.js';
import { formatTable } from '../../src/metrics/format/table.js';
import { formatDuration, formatPercent, scaled, sparkline } from '../../src/metrics/format/units.js';
import type { MetricsReport, Quantiles, RunCounts, WorkflowFigures } from '../../src/metrics/report.js';
import { sampleReport } from './sample-report.js';

const SGR = /\u001b\[[0-9;]*m/g;
const plain = (r: MetricsReport, width = 80): string => formatTable(r, { color: false, width });
const lines = (text: string): string[] => text.replace(/\n$/, '').split('\n');
const NO_Q: Quantiles = { p50: null, p90: null, p99: null };
const ZERO: RunCounts = { started: 0, succeeded: 0, failed: 0, escalated: 0, cancelled: 0, rejected: 0, running: 0, waiting: 0, stalled: 0 };

/** The lines from `title` up to the next blank line. */
function section(text: string, title: string): string[] {
  const all = lines(text);
  const start = all.indexOf(title);
  expect(start, `section ${title}`).toBeGreaterThanOrEqual(0);
  const end = all.indexOf('', start);
  return all.slice(start + 1, end === -1 ? undefined : end);
}

function expectFits(text: string, width: number): void {
  for (const line of lines(text)) expect(displayWidth(line.replace(SGR, '')), line).toBeLessThanOrEqual(width);
}

/** A report with no leak: the sample with its leaks taken away. */
function noLeaks(): MetricsReport {
  const r = sampleReport();
  const fix = (w: WorkflowFigures): WorkflowFigures => ({ ...w, leaked: 0, leakage_rate: 0 });
  return { ...r, totals: fix(r.totals), workflows: r.workflows.map(fix), leaked_runs: [], leaked_runs_omitted: 0 };
}

function emptyReport(): MetricsReport {
  const r = sampleReport();
  const totals: WorkflowFigures = {
    ...r.totals, runs: ZERO, success_rate: null, error_rate: null, leakage_rate: null, leaked: 0, response_seconds: NO_Q, cycle_seconds: NO_Q, ack_seconds: NO_Q,
    reclaimed_hours: 0, reclaimed_value: null, currency: null, baselines_seen: 0, periods: [],
  };
  return { ...r, totals, workflows: [], owners: [], top_failing_steps: [], leaked_runs: [], leaked_runs_omitted: 0, warnings: [], warnings_omitted: 0, input: { files: 0, lines: 0, records: 0, bytes: 0 } };
}

describe('the sample report at 80 columns, without colour', () => {
  const out = plain(sampleReport());

  it('puts the leaks first, each with run id, time, workflow, last step and reason', () => {
    expect(lines(out).slice(0, 7)).toEqual([
      '2 leaked runs: 2.4% of 84 started. The goal is zero; each one failed or stopped',
      '  with nobody told.',
      '  2026-11-18 14:02:11Z  lead-intake › create_deal',
      '    01JDX3K7Q0000000000000000A: failed, and no escalation was delivered',
      '  2026-11-20 08:00:00Z  invoice <b>&</b> "follow"\\e[31m-up › send',
      '    01JDX3K7Q0000000000000000B: no record for 2d 1h and no run.finished: the run',
      '      stopped without an end',
    ]);
  });

  it('shows the summary band: hours and value, runs by state, rates, response against baseline, cycle, time to acknowledgement', () => {
    expect(section(out, 'flux metrics  2026-11-16 → 2026-11-23, by day, 1,201 records in 84 files')).toEqual([
      '  reclaimed           10.3 h   worth 516.00 USD',
      '  runs                    84   75 succeeded, 1 failed, 2 escalated, 3 rejected,',
      '                               1 running, 1 waiting, 1 stalled',
      '  success              96.2%   errors 3.8%',
      '  leaked                   2   2.4% of runs started',
      '  response p50          43 s   p90 1.5 min, p99 2.2 min',
      '                               lead-intake: 339x faster than by hand (4.0 h)',
      '  cycle p50          1.1 min   p90 1.0 h, p99 24 h',
      '  ack p50             15 min   p90 30 min, p99 30 min',
    ]);
  });

  it('has one right-aligned row per workflow and the total, with a sparkline of runs per day', () => {
    expect(section(out, 'Workflows')).toEqual([
      '                                              response   cycle reclaimed started',
      'workflow            runs     ok   leak     p50     p90     p50     hours per day',
      'invoice <b>&</b…       9   100%      1       –       –   1.0 h     3.5 h ▆▁▄▁█▁▄',
      'lead-intake           75  95.8%      1    43 s 1.5 min 1.1 min     6.8 h ▆▇▅▁▁▇█',
      '────────────────────────────────────────────────────────────────────────────────',
      'total                 84  96.2%      2    43 s 1.5 min 1.1 min    10.3 h ▆▇▅▁▃▆█',
    ]);
  });

  it('lists owners, the top failing steps with their most common error, and the warnings', () => {
    expect(section(out, 'Owners')).toEqual([
      '                                                       reclaimed',
      'owner                  workflows   runs leaked leakage     hours          value',
      'finance@example.com            1      9      1   11.1%     3.5 h     210.00 USD',
      'sales-ops@example.com          1     75      1    1.3%     6.8 h     306.00 USD',
    ]);
    expect(section(out, 'Top failing steps')).toEqual([
      'workflow › step            failed     of retries     p95',
      'lead-intake › create_deal       3     72       5  900 ms',
      '    most common (2 of 3): HTTP 503 from crm: service unavailable',
    ]);
    expect(lines(out).slice(-3)).toEqual([
      '1 warning: lines or files that could not be used (--format json lists them)',
      '  .flux/logs/lead-intake/01JDX3K7Q0000000000000000C.jsonl:7: not JSON:',
      '      Unexpected end of JSON input (a truncated last line)',
    ]);
  });

  it('never lets a control character through, and fits 80 columns', () => {
    expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expectFits(out, 80);
  });

  it('shows the whole escaped name when there is room', () => {
    const wide = plain(sampleReport(), 160);
    expect(wide).toContain('\n    01JDX3K7Q0000000000000000B: no record for 2d 1h and no run.finished: the run stopped without an end\n');
    expect(section(wide, 'Workflows')[2]).toMatch(/^invoice <b>&<\/b> "follow"\\e\[31m-up +9 +100% +1 /);
    // Wide enough, time to acknowledgement has its columns (at 80 they are the first dropped).
    expect(section(wide, 'Workflows')[0]).toMatch(/response +cycle +ack +reclaimed/);
    expect(section(wide, 'Workflows')[3]).toMatch(/^lead-intake .* 1\.1 min +15 min +30 min +6\.8 h /);
    expectFits(wide, 160);
  });
});

describe('colour', () => {
  it('paints through chalk when asked, and the text under the paint is the plain table', () => {
    const coloured = formatTable(sampleReport(), { color: true, width: 80 });
    expect(coloured).toMatch(SGR);
    expect(coloured.startsWith('\u001b[1m\u001b[31m2 leaked runs')).toBe(true);
    expect(coloured.replace(SGR, '')).toBe(plain(sampleReport()));
    // The only escape sequences are chalk's own: the name's \e[31m is shown as text.
    expect(coloured.replace(SGR, '')).not.toContain('\u001b');
    expectFits(coloured, 80);
  });
  it('writes no escape sequence at all without colour', () => {
    expect(plain(sampleReport())).not.toContain('\u001b');
  });
});

describe('variations', () => {
  it('with no leak, opens with the summary and says there is none', () => {
    const out = plain(noLeaks());
    expect(lines(out)[0]).toBe('flux metrics  2026-11-16 → 2026-11-23, by day, 1,201 records in 84 files');
    expect(out).toContain('\n  leaked                   0   none: every run ended or is waiting\n');
    expect(out).not.toContain('leaked run');
  });

  it('with no runs, shows dashes for what cannot be computed and no empty grids', () => {
    const out = plain(emptyReport());
    expect(lines(out)).toEqual([
      'flux metrics  2026-11-16 → 2026-11-23, by day, 0 records in 0 files',
      '  reclaimed            0.0 h',
      '  runs                     0',
      '  success                  –   errors –',
      '  leaked                   0   none: every run ended or is waiting',
      '  response p50             –   p90 –, p99 –',
      '  cycle p50                –   p90 –, p99 –',
      '',
      'Workflows',
      '  no runs in this window',
      '',
      '0 warnings: every log line was read',
    ]);
  });

  it('with nulls everywhere, shows dashes in every cell that has no figure', () => {
    const r = sampleReport();
    const blank = (w: WorkflowFigures): WorkflowFigures => ({
      ...w, success_rate: null, error_rate: null, leakage_rate: null, response_seconds: NO_Q, cycle_seconds: NO_Q, ack_seconds: NO_Q,
      response_baseline_seconds: null, response_speedup: null, reclaimed_value: null, currency: null, baseline: null,
    });
    const owners = r.owners.map((o) => ({ ...o, leakage_rate: null, reclaimed_value: null, currency: null }));
    const steps = r.top_failing_steps.map((s) => ({ ...s, duration_ms: { p50: null, p95: null }, top_error: null }));
    const out = plain({ ...r, window: { ...r.window, since: null }, totals: blank(r.totals), workflows: r.workflows.map(blank), owners, top_failing_steps: steps });
    expect(lines(out).find((l) => l.startsWith('flux metrics'))).toBe('flux metrics  the first record → 2026-11-23, by day, 1,201 records in 84 files');
    expect(out).toContain('\n  reclaimed           10.3 h\n');
    expect(out).toContain('\n  success                  –   errors –\n');
    expect(out).toContain('\n  leaked                   2   – of runs started\n');
    expect(section(out, 'Workflows').slice(2)).toEqual([
      'invoice <b>&</b…       9      –      1       –       –       –     3.5 h ▆▁▄▁█▁▄',
      'lead-intake           75      –      1       –       –       –     6.8 h ▆▇▅▁▁▇█',
      '────────────────────────────────────────────────────────────────────────────────',
      'total                 84      –      2       –       –       –    10.3 h ▆▇▅▁▃▆█',
    ]);
    expect(section(out, 'Owners')[2]).toBe('finance@example.com            1      9      1       –     3.5 h              –');
    expect(section(out, 'Top failing steps')).toEqual([
      'workflow › step            failed     of retries     p95',
      'lead-intake › create_deal       3     72       5       –',
    ]);
  });

  it('with many long-named workflows, cuts names with an ellipsis and keeps every row within 80 columns', () => {
    const r = sampleReport();
    const base = r.workflows[1]!;
    const workflows = Array.from({ length: 60 }, (_, i) => ({ ...base, name: `nightly-reconciliation-of-supplier-invoices-region-${String(i).padStart(2, '0')}` }));
    const out = plain({ ...r, workflows });
    expectFits(out, 80);
    const rows = section(out, 'Workflows').slice(2, -2);
    expect(rows).toHaveLength(60);
    for (const row of rows) expect(row).toBe('nightly-reconci…      75  95.8%      1    43 s 1.5 min 1.1 min     6.8 h ▆▇▅▁▁▇█');
  });

  it('with names in wide characters, counts two columns for each', () => {
    const r = sampleReport();
    const out = plain({ ...r, workflows: [{ ...r.workflows[1]!, name: '請求書の自動処理と確認のワークフロー' }] });
    expectFits(out, 80);
    expect(section(out, 'Workflows')[2]).toBe('請求書の自動処…       75  95.8%      1    43 s 1.5 min 1.1 min     6.8 h ▆▇▅▁▁▇█');
  });

  it('with huge numbers, scales them to fit their columns', () => {
    const r = sampleReport();
    const big = (w: WorkflowFigures): WorkflowFigures => ({
      ...w, runs: { ...w.runs, started: 9_870_000_000, succeeded: 9_000_000_000 }, leaked: 123_456_789,
      reclaimed_hours: 1.234e12, reclaimed_value: 5.5e13, response_seconds: { p50: 9e9, p90: 9e10, p99: 1e300 }, cycle_seconds: { p50: 4e7, p90: null, p99: null },
    });
    const out = plain({ ...r, totals: big(r.totals), workflows: [big(r.workflows[1]!)] });
    expectFits(out, 80);
    expect(section(out, 'Workflows')[2]).toBe('lead-intake    9.9B  95.8% 123.5M  >999 d  >999 d   463 d    1.2T h ▆▇▅▁▁▇█');
    expect(out).toContain('\n  reclaimed           1.2T h   worth 55.0T USD\n');
    expect(out).toContain('\n  runs          9,870,000,000   9,000,000,000 succeeded, 1 failed, 2 escalated,\n');
    expect(out).toContain('\n  leaked         123,456,789   2.4% of runs started\n');
    expect(out).toContain('\n  response p50        >999 d   p90 >999 d, p99 >999 d\n');
    expect(lines(out)[0]).toBe('123,456,789 leaked runs: 2.4% of 9,870,000,000 started. The goal is zero; each');
  });

  it('drops the least important columns on a narrow terminal rather than overflow', () => {
    const out = plain(sampleReport(), 60);
    expectFits(out, 60);
    expect(section(out, 'Workflows')).toEqual([
      '                                                   reclaimed',
      'workflow                runs     ok   leak     p50     hours',
      'invoice <b>&</b> "f…       9   100%      1       –     3.5 h',
      'lead-intake               75  95.8%      1    43 s     6.8 h',
      '────────────────────────────────────────────────────────────',
      'total                     84  96.2%      2    43 s    10.3 h',
    ]);
  });

  it('keeps the trend at 80 columns by week and by month, with a shorter head when needed', () => {
    const rows = (by: 'week' | 'month'): string[] => section(plain({ ...sampleReport(), by }), 'Workflows');
    expect(rows('week')[1]).toBe('workflow            runs     ok   leak     p50     p90     p50     hours week');
    expect(rows('week')[3]).toBe('lead-intake           75  95.8%      1    43 s 1.5 min 1.1 min     6.8 h ▆▇▅▁▁▇█');
    expect(rows('month')[1]).toBe('workflow            runs     ok   leak     p50     p90     p50     hours month');
    expect(rows('month')[3]).toBe('lead-intake           75  95.8%      1    43 s 1.5 min 1.1 min     6.8 h ▆▇▅▁▁▇█');
  });

  it('lists at most three warnings and counts the rest, and says how many leaked runs were not listed', () => {
    const r = sampleReport();
    const warnings = Array.from({ length: 5 }, (_, i) => ({ file: `f${i}.jsonl`, line: i + 1, message: `bad\u0007 ${i}` }));
    const out = plain({ ...r, warnings, warnings_omitted: 10, leaked_runs_omitted: 1234 });
    expect(out).toContain('\n  … and 1,234 more not listed\n');
    expect(lines(out).slice(-5)).toEqual([
      '15 warnings: lines or files that could not be used (--format json lists them)',
      '  f0.jsonl:1: bad\\x07 0',
      '  f1.jsonl:2: bad\\x07 1',
      '  f2.jsonl:3: bad\\x07 2',
      '  … and 12 more',
    ]);
  });
});

describe('units', () => {
  it('formats durations with the unit that keeps them short, rounding before choosing it', () => {
    expect([0.0004, 0.25, 0.9996, 9.94, 9.96, 59.4, 59.6, 90, 3599, 3600, 172_799, 172_800, 8.64e9].map(formatDuration)).toEqual([
      '0 ms', '250 ms', '1.0 s', '9.9 s', '10 s', '59 s', '1.0 min', '1.5 min', '1.0 h', '1.0 h', '2.0 d', '2.0 d', '>999 d',
    ]);
    expect(formatDuration(null)).toBe('–');
  });
  it('never shows a rate that is not zero as 0%, nor one below 1 as 100%', () => {
    expect([0, 1, 0.0001, 0.9999, 0.5, 0.0235, null].map(formatPercent)).toEqual(['0%', '100%', '<0.1%', '>99.9%', '50.0%', '2.4%', '–']);
  });
  it('scales large numbers after rounding, so 999,960 is 1.0M', () => {
    expect([999.94, 999.96, 12_345, 999_960, 1.5e9, 2e12, 1e15, -12_345].map((n) => scaled(n, 1))).toEqual(['999.9', '1.0k', '12.3k', '1.0M', '1.5B', '2.0T', '1.0e+15', '-12.3k']);
  });
  it('draws zero as the lowest bar and any run above it', () => {
    expect(sparkline([0, 1, 100, 50])).toBe('▁▂█▅');
    expect(sparkline([0, 0])).toBe('▁▁');
    expect(sparkline([])).toBe('');
  });
  it('cuts text by terminal columns', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abcd', 4)).toBe('abcd');
    expect(truncate('請求書', 4)).toBe('請…');
    expect(displayWidth('e\u0301')).toBe(1);
  });
});
