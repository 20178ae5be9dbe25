// The HTML report in a real headless Chromium (Debian's), JavaScript off: the figures shown are
// the report's, the page is accessible, nothing leaves the file, outside text stays text, and
// it lays out on a desk, a phone and paper. Screenshots go to test-artifacts/ for a human look.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatHtml } from '../../src/metrics/format/html.js';
import { formatHours, formatMoney, formatMs, formatRate, formatSeconds, formatSpeedup, formatTime, text } from '../../src/metrics/format/html-text.js';
import type { MetricsReport, Quantiles, RunCounts, WorkflowFigures } from '../../src/metrics/report.js';
import { checkHtmlReport, launchChromium, openReport } from './html-check.js';
import { sampleReport } from './sample-report.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const ODD_SHOWN = 'invoice <b>&</b> "follow"\\e[31m-up';

function write(html: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'flux-html-')), 'report.html');
  writeFileSync(file, html);
  return file;
}

const NO_Q: Quantiles = { p50: null, p90: null, p99: null };
const NO_RUNS: RunCounts = { started: 0, succeeded: 0, failed: 0, escalated: 0, cancelled: 0, rejected: 0, running: 0, waiting: 0, stalled: 0 };

/** A report of a window in which nothing ran. */
function emptyReport(): MetricsReport {
  const totals: WorkflowFigures = {
    name: 'total', owner: null, runs: NO_RUNS, success_rate: null, error_rate: null, leakage_rate: null, leaked: 0,
    response_seconds: NO_Q, response_baseline_seconds: null, response_speedup: null, cycle_seconds: NO_Q, ack_seconds: NO_Q,
    reclaimed_hours: 0, reclaimed_value: null, currency: null, baseline: null, baselines_seen: 0, steps: [], periods: [],
  };
  return {
    version: 1, generated_at: '2026-11-24T10:00:00.000Z', window: { since: null, until: '2026-11-24T10:00:00.000Z' }, by: 'week',
    stale_after_seconds: 86400, input: { files: 0, lines: 0, records: 0, bytes: 0 }, totals, workflows: [], owners: [],
    top_failing_steps: [], leaked_runs: [], leaked_runs_omitted: 0, warnings: [], warnings_omitted: 0,
  };
}

describe('the figures as the report writes them', () => {
  it('writes durations in the largest unit that reads well, and null as a dash', () => {
    expect([0.25, 42.54, 90, 5400, 90000, 259200].map(formatSeconds)).toEqual(['0.3 s', '42.5 s', '1.5 min', '1.5 h', '25.0 h', '3.0 d']);
    expect([0.4, 120, 999, 1500].map(formatMs)).toEqual(['0.4 ms', '120 ms', '999 ms', '1.5 s']);
    expect([formatSeconds(null), formatMs(null), formatRate(null), formatHours(null), formatSpeedup(null), formatMoney(null, 'USD')]).toEqual(['—', '—', '—', '—', '—', '—']);
  });
  it('never shows a real but tiny rate or amount as zero', () => {
    expect([0, 1 / 75, 1, 0.00004].map(formatRate)).toEqual(['0.0%', '1.3%', '100.0%', '0.004%']);
    expect([0, 0.04, 12345.67].map(formatHours)).toEqual(['0.0 h', '0.04 h', '12,345.7 h']);
  });
  it('writes money in whole units from 100, in any currency, known or not', () => {
    expect(formatMoney(516, 'USD')).toBe('$516');
    expect(formatMoney(12.5, 'EUR')).toBe('€12.50');
    expect(formatMoney(1200, 'CHF')).toBe('CHF\u00a01,200');
    expect(formatMoney(1200, 'ZZZ')).toBe('ZZZ\u00a01,200');
    expect(formatMoney(1200, 'pts\u001b[2J')).toBe('1,200 pts\\e[2J');
    expect(formatMoney(7, null)).toBe('7.00');
  });
  it('writes ratios, times and outside text for people', () => {
    expect([338.8, 1.54, 0.5].map(formatSpeedup)).toEqual(['339x', '1.5x', '0.5x']);
    expect(formatTime('2026-11-23T09:00:00.000Z')).toBe('2026-11-23 09:00 UTC');
    expect(formatTime('yesterday\u001b[2J')).toBe('yesterday\\e[2J');
    expect(text('a<b>&"c"\u202e')).toBe('a&lt;b&gt;&amp;&quot;c&quot;\\u202e');
    expect(text('x'.repeat(300))).toBe(`${'x'.repeat(200)}…`);
  });
});

describe('the HTML report in Chromium', () => {
  it('fails, saying how to install it, when Chromium cannot be started', async () => {
    await expect(launchChromium('/nonexistent/chromium')).rejects.toThrow(/cannot launch Chromium at \/nonexistent\/chromium .*apt-get install -y chromium/);
  });

  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('shows every figure of the sample report as the report has it, accessibly, with nothing loaded', async () => {
    const report = sampleReport();
    const { page, outside } = await openReport(browser, write(formatHtml(report)));
    const result = await checkHtmlReport(page, report);
    expect(result.problems).toEqual([]);
    expect(result.figures).toBeGreaterThan(150);
    expect(outside).toEqual([]);

    // The headline figures, written out by hand: 68 x 6 min + 7 x 30 min = 10.3 h, worth
    // 6.8 h x $45 + 3.5 h x $60 = $516; 75 of 78 finished runs succeeded; 4 h by hand against a
    // p50 of 42.5 s is 339 times faster.
    const shownText = (selector: string) => page.locator(selector).first().textContent();
    expect(await shownText('.tile [data-scope="totals"][data-metric="reclaimed_hours"]')).toBe('10.3 h');
    expect(await shownText('.tile [data-scope="totals"][data-metric="reclaimed_value"]')).toBe('$516');
    expect(await shownText('.tile [data-scope="totals"][data-metric="success_rate"]')).toBe('96.2%');
    expect(await shownText('.tile [data-scope="totals"][data-metric="leaked"]')).toBe('2');
    expect(await page.locator('.tile.alert').textContent()).toContain('2 leaked runs');
    expect(await shownText('.tile [data-workflow="lead-intake"][data-metric="response_speedup"]')).toBe('339x');
    expect(await page.locator('.tile').nth(3).textContent()).toContain('lead-intake: 339x faster than by hand');
    expect(await shownText('[data-workflow="lead-intake"][data-step="create_deal"][data-metric="duration_ms.p95"]')).toBe('900 ms');
    expect(await shownText(`[data-workflow="${ODD_SHOWN.replace(/["\\]/g, '\\$&')}"][data-metric="cycle_seconds.p99"]`)).toBe('25.0 h');

    // The awkward name is shown as literal text: no <b> element, the ESC made visible.
    expect(await page.locator('section.workflow > h2').nth(0).textContent()).toBe(ODD_SHOWN);
    expect(await page.locator('b').count()).toBe(0);
    expect(await page.locator('h1').textContent()).toBe('Automation metrics');
    expect(await page.title()).toBe('2 leaked runs · Automation metrics, 2026-11-16 00:00 UTC to 2026-11-23 00:00 UTC');

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'metrics-report.png'), fullPage: true });
    await page.context().close();
  }, 60_000);

  it('fits a phone without sideways scrolling, and prints without the navigation', async () => {
    const { page } = await openReport(browser, write(formatHtml(sampleReport())), { width: 390, height: 844 });
    const widths = await page.evaluate(() => ({ page: document.documentElement.scrollWidth, view: window.innerWidth }));
    expect(widths.page).toBeLessThanOrEqual(widths.view);
    await page.screenshot({ path: join(ARTIFACTS, 'metrics-report-phone.png'), fullPage: true });
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('nav').isVisible()).toBe(false);
    const pdf = await page.pdf({ format: 'A4', printBackground: true });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    writeFileSync(join(ARTIFACTS, 'metrics-report.pdf'), pdf);
    await page.context().close();
  }, 60_000);

  it('shows a window in which nothing ran, without a leak alert or charts', async () => {
    const report = emptyReport();
    const { page, outside } = await openReport(browser, write(formatHtml(report)));
    const result = await checkHtmlReport(page, report);
    expect(result.problems).toEqual([]);
    expect(outside).toEqual([]);
    expect(await page.locator('[data-scope="totals"][data-metric="leaked"]').textContent()).toBe('0');
    expect(await page.locator('[data-scope="totals"][data-metric="success_rate"]').textContent()).toBe('—');
    expect(await page.locator('svg').count()).toBe(0);
    expect(await page.locator('main').textContent()).toContain('No workflow ran in this window.');
    await page.screenshot({ path: join(ARTIFACTS, 'metrics-report-empty.png'), fullPage: true });
    await page.context().close();
  }, 60_000);

  it('names workflows without an owner, counts what it could not list, and draws months', async () => {
    const sample = sampleReport();
    const odd = sample.workflows[0]!;
    const report: MetricsReport = {
      ...sample, by: 'month', workflows: [{ ...odd, owner: null }, sample.workflows[1]!], owners: sample.owners.slice(1),
      leaked_runs: sample.leaked_runs.slice(0, 1), leaked_runs_omitted: 1, warnings_omitted: 12,
    };
    const { page } = await openReport(browser, write(formatHtml(report)));
    const result = await checkHtmlReport(page, report);
    expect(result.problems).toEqual([]);
    expect(await page.locator('[data-metric="leaked_runs_omitted"]').textContent()).toBe('1');
    expect(await page.locator('[data-metric="warnings_omitted"]').textContent()).toBe('12');
    expect(await page.locator('section.workflow').nth(0).locator('.finding').first().textContent()).toMatch(/^No owner\./);
    expect(await page.locator('#owners-h ~ p.finding').textContent()).toBe(
      `1 workflow without an owner: ${ODD_SHOWN}. Nobody answers for its failures; set owner in the workflow file.`,
    );
    // The odd workflow's leaked run is not listed: its section says so instead of showing a table.
    expect(await page.locator('section.workflow').nth(0).textContent()).toContain('1 more leaked run counted but not listed');
    expect(await page.locator('svg title').first().textContent()).toBe('Runs per month, by outcome: all workflows');
    expect(await page.locator('svg text[text-anchor="middle"]').first().textContent()).toBe('Nov 2026');
    await page.context().close();
  }, 60_000);

  it('keeps hostile names as text: no script runs and nothing is fetched', async () => {
    const report = sampleReport();
    const evil = '</style></title><script>document.title="owned"</script><img src="http://127.0.0.1:9/x.png"><link rel=stylesheet href="http://127.0.0.1:9/s.css">';
    const wf = { ...report.workflows[1]!, name: evil, owner: `${evil}@x`, steps: [] };
    const hostile: MetricsReport = {
      ...report, workflows: [report.workflows[0]!, wf], owners: [], top_failing_steps: [],
      leaked_runs: report.leaked_runs.map((r) => ({ ...r, workflow: evil, reason: evil, last_step: evil })),
      warnings: [{ file: evil, line: 3, message: `\u001b]0;title\u0007${evil}` }],
    };
    const { page, outside } = await openReport(browser, write(formatHtml(hostile)));
    expect(outside).toEqual([]);
    expect(await page.locator('script, img, link').count()).toBe(0);
    expect(await page.title()).toMatch(/^2 leaked runs · Automation metrics/);
    expect(await page.locator('section.workflow > h2').nth(1).textContent()).toBe(evil);
    expect(await page.locator('ul.warnings li').textContent()).toContain('\\e]0;title\\x07</style>');
    await page.context().close();
  }, 60_000);

  it('catches a page whose figures or structure are wrong (the check can fail)', async () => {
    const report = sampleReport();
    const good = formatHtml(report);
    const tampered = [
      good.replace('>10.3 h<', '>10.4 h<'),
      good.replace('>96.2%<', '>96.2<'),
      good.replace(/<caption>[^<]*<\/caption>/, ''),
      good.replace('role="img"', ''),
      good.replace('<h3>Over time</h3>', '<h4>Over time</h4>'),
      good.replace('tile alert headline', 'tile'),
      good.replace('<td>14</td>', '<td>15</td>'),
    ];
    const expected = [/reclaimed_hours.*shows "10.4 h"/, /success_rate.*should have unit %/, /has no caption/, /no role=img/, /h4 follows h2/, /leakage is not the headline/, /runs\.started of totals\|\|\|\|2026-11-16\|runs\.started: shows "15"/];
    for (const [i, html] of tampered.entries()) {
      expect(html).not.toBe(good);
      const { page } = await openReport(browser, write(html));
      const { problems } = await checkHtmlReport(page, report);
      expect(problems.join('\n')).toMatch(expected[i]!);
      await page.context().close();
    }
    // A request that leaves the file is seen (here a page without the CSP that would stop it).
    const leaky = good.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, '').replace('<main>', '<main><img src="http://127.0.0.1:9/x.png" alt="">');
    const opened = await openReport(browser, write(leaky));
    expect(opened.outside).toEqual(['http://127.0.0.1:9/x.png']);
    await opened.page.context().close();
    // ...and with the page's own CSP, even markup that slipped through could not fetch.
    const guarded = await openReport(browser, write(good.replace('<main>', '<main><img src="http://127.0.0.1:9/x.png" alt="">')));
    expect(guarded.outside).toEqual([]);
    await guarded.page.context().close();
    // A figure of the report that the page leaves out is a problem too.
    const { page } = await openReport(browser, write(good.replace(/data-metric="cycle_seconds.p99"/g, 'data-x="y"')));
    expect((await checkHtmlReport(page, report)).problems.join('\n')).toMatch(/figure not shown: .*cycle_seconds.p99/);
    await page.context().close();
  }, 120_000);
});
