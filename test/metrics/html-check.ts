/// <reference lib="dom" />
/**
 * Checks an HTML metrics report in a real browser against the report it was rendered from:
 * every figure shown (each element with `data-metric`) is read back from the page and compared
 * with the report's number within the precision shown; the figures a reader needs are all
 * there; headings are in order; tables have captions and scoped headers; every chart is an
 * image with an accessible name and a text equivalent; nothing is loaded from anywhere but the
 * file. Exported so an end-to-end test can check a report rendered from real logs the same way.
 *
 * The reading of numbers is independent of the renderer's formatting code: a small grammar
 * (currency prefix, `1,234.5`, unit %, x, ms, s, min, h, d), so a renderer that shows a wrong
 * figure, a wrong unit or a wrong rounding is caught.
 */
import { chromium, type Browser, type Page } from 'playwright-core';
import type { MetricsReport } from '../../src/metrics/report.js';
import { shown } from '../../src/metrics/format/html-text.js';

export const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Starts Debian's Chromium, or fails saying how to install it: this test never skips. */
export async function launchChromium(executablePath = CHROMIUM): Promise<Browser> {
  try {
    return await chromium.launch({ executablePath, args: ARGS });
  } catch (err) {
    const why = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    throw new Error(`cannot launch Chromium at ${executablePath} (${why}). The HTML report is tested in a real browser: install it with \`apt-get install -y chromium\` (.ci/run does this in CI).`);
  }
}

/** A page showing a report file with JavaScript off, and every request that tried to leave the file. */
export interface OpenedReport {
  readonly page: Page;
  readonly outside: readonly string[];
}

/** Opens `file` (an absolute path) in a new context with JavaScript disabled, routing every request. */
export async function openReport(browser: Browser, file: string, viewport = { width: 1200, height: 900 }): Promise<OpenedReport> {
  const context = await browser.newContext({ javaScriptEnabled: false, viewport });
  const outside: string[] = [];
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (url.startsWith('file:')) return route.continue();
    outside.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  await page.goto(`file://${file}`);
  return { page, outside };
}

interface Shown {
  readonly metric: string;
  readonly text: string;
  readonly scope: string | null;
  readonly workflow: string | null;
  readonly owner: string | null;
  readonly step: string | null;
  readonly period: string | null;
}

const TIME: Readonly<Record<string, number>> = { ms: 0.001, s: 1, min: 60, h: 3600, d: 86400 };

/** What unit a metric is in, by its name: how a shown figure converts to it. */
function unitOf(metric: string): { kind: 'time'; seconds: number } | { kind: 'rate' | 'ratio' | 'money' | 'count' | 'hours' } {
  if (metric === 'reclaimed_hours') return { kind: 'hours' };
  if (metric.endsWith('rate')) return { kind: 'rate' };
  if (metric === 'response_speedup') return { kind: 'ratio' };
  if (metric === 'reclaimed_value' || metric === 'baseline.hourly_cost') return { kind: 'money' };
  if (metric.startsWith('duration_ms')) return { kind: 'time', seconds: 0.001 };
  if (metric.includes('seconds')) return { kind: 'time', seconds: 1 };
  if (metric.includes('minutes')) return { kind: 'time', seconds: 60 };
  return { kind: 'count' };
}

/** Reads a shown figure back as a number in the metric's unit, with half its last shown digit as tolerance. */
export function readFigure(text: string, metric: string): { value: number | null; tolerance: number } | string {
  if (text === '—') return { value: null, tolerance: 0 };
  const unit = unitOf(metric);
  const m = unit.kind === 'money' ? /^[^\d-]*(-?\d[\d,]*(?:\.\d+)?)(?:\s+\S+)?$/.exec(text) : /^(-?\d[\d,]*(?:\.\d+)?)\s*(%|x|ms|s|min|h|d)?$/.exec(text);
  if (!m?.[1]) return `"${text}" is not a figure`;
  const n = Number(m[1].replace(/,/g, ''));
  const half = 0.5 * 10 ** -(m[1].split('.')[1]?.length ?? 0);
  const suffix = unit.kind === 'money' ? undefined : m[2];
  const expected: Record<string, string | undefined> = { rate: '%', ratio: 'x', hours: 'h', count: undefined, money: undefined };
  if (unit.kind === 'time') {
    const factor = suffix === undefined ? undefined : TIME[suffix];
    if (factor === undefined) return `"${text}" has no time unit`;
    return { value: (n * factor) / unit.seconds, tolerance: (half * factor) / unit.seconds };
  }
  if (suffix !== expected[unit.kind]) return `"${text}" should have unit ${expected[unit.kind] ?? 'none'}`;
  return unit.kind === 'rate' ? { value: n / 100, tolerance: half / 100 } : { value: n, tolerance: half };
}

function pick(obj: unknown, path: string): unknown {
  let v: unknown = obj;
  for (const k of path.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/** The report's object a shown figure belongs to, or why it cannot be found. */
function ownerOf(report: MetricsReport, s: Shown): unknown {
  if (s.owner !== null) return report.owners.find((o) => shown(o.owner) === s.owner) ?? `no owner "${s.owner}"`;
  const wf = s.scope === 'totals' ? report.totals : s.workflow === null ? null : report.workflows.find((w) => shown(w.name) === s.workflow);
  if (wf === undefined) return `no workflow "${s.workflow}"`;
  if (wf === null) return s.step === null && s.period === null ? report : 'a step or period figure without its workflow';
  if (s.step !== null) {
    const step = wf.steps.find((x) => shown(x.step) === s.step) ?? report.top_failing_steps.find((x) => shown(x.workflow) === s.workflow && shown(x.step) === s.step);
    return step ?? `no step "${s.step}" in "${s.workflow}"`;
  }
  if (s.period !== null) return wf.periods.find((p) => p.start === s.period) ?? `no period ${s.period} in "${wf.name}"`;
  return wf;
}

function key(s: { scope?: string | null; workflow?: string | null; owner?: string | null; step?: string | null; period?: string | null; metric: string }): string {
  return [s.scope ?? '', s.workflow ?? '', s.owner ?? '', s.step ?? '', s.period ?? '', s.metric].join('|');
}

/** The figures a reader of the report must find, as keys (see `key`). */
function required(report: MetricsReport): string[] {
  const keys: string[] = [];
  const headline = ['reclaimed_hours', 'runs.started', 'runs.succeeded', 'success_rate', 'leaked', 'response_seconds.p50'];
  for (const m of headline) keys.push(key({ scope: 'totals', metric: m }));
  if (report.totals.reclaimed_value !== null) keys.push(key({ scope: 'totals', metric: 'reclaimed_value' }));
  for (const w of report.workflows) {
    const workflow = shown(w.name);
    const metrics = [...headline, 'error_rate', 'leakage_rate', 'response_seconds.p90', 'response_seconds.p99', 'cycle_seconds.p50', 'cycle_seconds.p90', 'cycle_seconds.p99'];
    if (w.reclaimed_value !== null) metrics.push('reclaimed_value');
    if (w.response_speedup !== null) metrics.push('response_speedup');
    if (w.ack_seconds.p50 !== null) metrics.push('ack_seconds.p50', 'ack_seconds.p90', 'ack_seconds.p99');
    for (const m of metrics) keys.push(key({ workflow, metric: m }));
    for (const s of w.steps) {
      for (const m of ['finished', 'duration_ms.p50', 'duration_ms.p95', 'retries', 'failed', ...(s.top_error ? ['top_error.count'] : [])]) {
        keys.push(key({ workflow, step: shown(s.step), metric: m }));
      }
    }
    for (const p of w.periods) for (const m of ['runs.started', 'reclaimed_hours', 'response_seconds.p50']) keys.push(key({ workflow, period: p.start, metric: m }));
  }
  for (const p of report.totals.periods) for (const m of ['runs.started', 'reclaimed_hours']) keys.push(key({ scope: 'totals', period: p.start, metric: m }));
  for (const o of report.owners) for (const m of ['runs_started', 'leaked', 'reclaimed_hours']) keys.push(key({ owner: shown(o.owner), metric: m }));
  return keys;
}

/** What the check found: the problems (none for a good page) and how many figures it compared. */
export interface CheckResult {
  readonly problems: readonly string[];
  readonly figures: number;
}

/** Checks a page showing `report` (see the module comment); `expect(problems).toEqual([])` in a test. */
export async function checkHtmlReport(page: Page, report: MetricsReport): Promise<CheckResult> {
  const problems: string[] = [];
  // Whose a figure is may be said on it or on an ancestor: the nearest element naming a
  // workflow, the totals or an owner decides those three; step and period, each the nearest.
  // A column header with data-metric names the metric of every cell below it.
  const figures: Shown[] = await page.evaluate(() => {
    const out: Shown[] = [];
    const add = (metric: string, cell: Element) => {
      const whose = cell.closest('[data-workflow], [data-scope], [data-owner]');
      const near = (a: string) => cell.closest(`[${a}]`)?.getAttribute(a) ?? null;
      out.push({
        metric, text: (cell.textContent ?? '').trim(), scope: whose?.getAttribute('data-scope') ?? null, workflow: whose?.getAttribute('data-workflow') ?? null,
        owner: whose?.getAttribute('data-owner') ?? null, step: near('data-step'), period: near('data-period'),
      });
    };
    for (const e of Array.from(document.querySelectorAll('[data-metric]'))) {
      const metric = e.getAttribute('data-metric') ?? '';
      if (!(e instanceof HTMLTableCellElement && e.tagName === 'TH' && e.closest('thead'))) { add(metric, e); continue; }
      for (const row of Array.from(e.closest('table')?.tBodies[0]?.rows ?? [])) {
        const cell = row.cells[e.cellIndex];
        if (cell) add(metric, cell);
      }
    }
    return out;
  });
  for (const f of figures) {
    const where = `${f.metric} of ${key(f)}`;
    const obj = ownerOf(report, f);
    if (typeof obj === 'string') { problems.push(`${where}: ${obj}`); continue; }
    const actual = pick(obj, f.metric);
    const read = readFigure(f.text, f.metric);
    if (typeof read === 'string') problems.push(`${where}: ${read}`);
    else if (actual !== null && typeof actual !== 'number') problems.push(`${where}: the report has no number there`);
    else if (read.value === null || actual === null) { if (read.value !== actual) problems.push(`${where}: shows "${f.text}", the report has ${actual}`); }
    else if (Math.abs(read.value - actual) > read.tolerance + 1e-9 * Math.abs(actual)) problems.push(`${where}: shows "${f.text}", the report has ${actual}`);
  }
  const seen = new Set(figures.map(key));
  for (const k of required(report)) if (!seen.has(k)) problems.push(`figure not shown: ${k}`);
  problems.push(...(await structure(page, report)));
  return { problems, figures: figures.length };
}

/** Headings, tables, charts, links, scripts, the leak headline and the names, from the page. */
async function structure(page: Page, report: MetricsReport): Promise<string[]> {
  const problems = await page.evaluate(() => {
    const out: string[] = [];
    const levels = Array.from(document.querySelectorAll("h1,h2,h3,h4,h5,h6")).map((h) => Number(h.tagName[1]));
    if (levels[0] !== 1 || levels.filter((l) => l === 1).length !== 1) out.push(`headings must start with the one h1: ${levels.join(',')}`);
    levels.forEach((l, i) => { if (i > 0 && l > (levels[i - 1] ?? 0) + 1) out.push(`heading h${l} follows h${levels[i - 1]}`); });
    document.querySelectorAll('table').forEach((t, i) => {
      if (!t.caption?.textContent?.trim()) out.push(`table ${i} has no caption`);
      if (t.querySelectorAll('thead th[scope="col"]').length === 0) out.push(`table ${i} has no column headers`);
      t.querySelectorAll('th').forEach((th) => { if (!['col', 'row'].includes(th.getAttribute('scope') ?? '')) out.push(`table ${i}: a th without scope`); });
    });
    document.querySelectorAll('svg').forEach((svg, i) => {
      if (svg.getAttribute('role') !== 'img') out.push(`svg ${i} has no role=img`);
      const ids = (svg.getAttribute('aria-labelledby') ?? '').split(/\s+/).filter(Boolean);
      const name = ids.map((id) => document.getElementById(id)?.textContent ?? '').join(' ').trim();
      if (name === '' || !svg.querySelector(':scope > title')?.textContent?.trim()) out.push(`svg ${i} has no accessible name`);
      const fig = svg.closest('figure');
      if (!fig?.querySelector('figcaption')?.textContent?.trim() || !fig.querySelector('table')) out.push(`svg ${i} has no caption and table beside it`);
    });
    const ids = Array.from(document.querySelectorAll('[id]'), (e) => e.id);
    if (new Set(ids).size !== ids.length) out.push(`ids are not unique: ${ids.filter((id, i) => ids.indexOf(id) !== i).join(', ')}`);
    if (document.querySelector('script, iframe, object, embed, link[rel="stylesheet"], img[src]:not([src^="data:"])')) out.push('the page holds a script or loads something');
    document.querySelectorAll('a[href]').forEach((a) => {
      const href = a.getAttribute('href') ?? '';
      if (!href.startsWith('#') || !document.getElementById(href.slice(1))) out.push(`link ${href} does not point inside the page`);
    });
    return out;
  });
  const headline = await page.locator('.tile').first().evaluate((e) => ({ alert: e.classList.contains('alert'), text: e.textContent ?? '', link: e.querySelector('a[href="#leaked-runs"]') !== null }));
  if (report.totals.leaked > 0 && !(headline.alert && headline.link && headline.text.includes(String(report.totals.leaked)))) problems.push('leakage is not the headline, with its count and a link to the list');
  if (report.totals.leaked === 0 && headline.alert) problems.push('a leak alert without leaked runs');
  const listed = await page.locator('#leaked-runs tr[data-run]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-run')));
  const runs = report.leaked_runs.map((r) => shown(r.run_id));
  if (JSON.stringify(listed) !== JSON.stringify(runs)) problems.push(`leaked runs listed ${JSON.stringify(listed)}, the report has ${JSON.stringify(runs)}`);
  const names = await page.locator('section.workflow > h2').allTextContents();
  const expected = report.workflows.map((w) => shown(w.name));
  if (JSON.stringify(names) !== JSON.stringify(expected)) problems.push(`workflow headings ${JSON.stringify(names)}, expected ${JSON.stringify(expected)}`);
  return problems;
}
