// The maps in `flux metrics`'s HTML report: the demo's real runs, the workflow files found
// under --workflows (or workflows/ by default), each workflow's map beside its figures, checked
// in headless Chromium with the report's own checks (figures, accessibility, no script, nothing
// fetched) plus the maps': named, fitting their column, every box drawn, a table beside it.
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toDot } from '../../src/graph/dot.js';
import { dotToSvg } from '../../src/graph/svg.js';
import { workflowGraph } from '../../src/graph/workflow-graph.js';
import { formatHtml } from '../../src/metrics/format/html.js';
import type { MetricsReport } from '../../src/metrics/report.js';
import { loadWorkflow } from '../../src/workflow/load.js';
import { ROOT, runFlux } from '../helpers.js';
import { checkHtmlReport, launchChromium, openReport } from '../metrics/html-check.js';
import { clockEnv } from '../metrics/report-check.js';
import { sampleReport } from '../metrics/sample-report.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
let dir: string;
let env: Record<string, string>;
let browser: Browser | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flux-graph-metrics-'));
  const demo = await runFlux(['demo', '--no-daemon', '--log-dir', join(dir, 'logs')]);
  expect(demo.code, demo.stderr).toBe(0);
  env = clockEnv(dir, new Date(Date.now() + 60_000).toISOString());
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

async function metrics(args: string[], cwd = dir) {
  return runFlux(['metrics', join(dir, 'logs'), '--since', '1d', ...args], { cwd, env });
}

describe('flux metrics --format html with the workflow files', () => {
  it('embeds each workflow\'s map beside its figures, and the page passes the report\'s checks', async () => {
    const html = await metrics(['--out', join(dir, 'report.html'), '--workflows', join(ROOT, 'workflows')]);
    expect([html.code, html.stdout, html.stderr]).toEqual([0, '', '']);
    const json = await metrics(['--out', join(dir, 'report.json')]);
    expect(json.code).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as MetricsReport;
    // The demo runs every example once: one workflow in the report per example file.
    const examples = readdirSync(join(ROOT, 'workflows')).filter((f) => f.endsWith('.yaml')).length;
    expect(report.workflows.length).toBe(examples);

    browser = await launchChromium();
    const { page, outside } = await openReport(browser, join(dir, 'report.html'));
    const { problems } = await checkHtmlReport(page, report);
    expect(problems).toEqual([]);
    expect(outside).toEqual([]);
    const maps = await page.evaluate(() => Array.from(document.querySelectorAll('section.workflow'), (s) => {
      const svg = s.querySelector('.with-map svg.map');
      const figures = s.querySelector('.with-map dl.figures');
      const box = svg?.getBoundingClientRect();
      const column = svg?.closest('figure')?.getBoundingClientRect();
      return {
        name: s.querySelector('h2')?.textContent ?? '',
        title: svg?.querySelector(':scope > title')?.textContent ?? null,
        nodes: Array.from(svg?.querySelectorAll('g.node') ?? [], (g) => Array.from(g.querySelectorAll('text'), (t) => t.textContent ?? '').join('')),
        rows: svg?.closest('figure')?.querySelectorAll('table tbody tr').length ?? 0,
        fits: box !== undefined && column !== undefined && box.width > 50 && box.width <= column.width + 0.5,
        beside: figures !== null && svg !== null && Math.abs(figures.getBoundingClientRect().top - (column?.top ?? 0)) < 40,
      };
    }));
    expect(maps.map((m) => m.name).sort()).toEqual(report.workflows.map((w) => w.name).sort());
    for (const m of maps) {
      const loaded = await loadWorkflow(join(ROOT, 'workflows', `${m.name}.yaml`));
      if (!loaded.ok) throw new Error(`${m.name} does not load`);
      const graph = workflowGraph(loaded.workflow.value);
      expect(m.title).toBe(`Map of ${m.name}`);
      expect([...m.nodes].sort()).toEqual(graph.nodes.map((n) => n.label.join('')).sort());
      expect(m.rows).toBe(graph.nodes.length);
      expect(m.fits, `${m.name}'s map fits its column`).toBe(true);
      expect(m.beside, `${m.name}'s map is beside its figures`).toBe(true);
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'metrics-with-maps.png'), fullPage: true });
    const phone = await openReport(browser, join(dir, 'report.html'), { width: 390, height: 800 });
    const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
  }, 60_000);

  it('finds workflows/ in the current directory by default, and leaves out the map of a file that does not load', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'flux-graph-cwd-'));
    cpSync(join(ROOT, 'workflows'), join(cwd, 'workflows'), { recursive: true });
    writeFileSync(join(cwd, 'workflows/lead-intake.yaml'), 'name: lead-intake\nowner: [\n');
    const r = await metrics(['--format', 'html'], cwd);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('flux: 1 workflow file did not load (`workflows/lead-intake.yaml`); no map for it (see `flux lint`)\n');
    const examples = readdirSync(join(ROOT, 'workflows')).filter((f) => f.endsWith('.yaml')).length;
    expect((r.stdout.match(/<svg class="map"/g) ?? []).length).toBe(examples - 1);
    expect(r.stdout).not.toContain('Map of lead-intake');
  });

  it('draws no maps without workflow files, and exit 2 when --workflows is not a directory', async () => {
    const none = await metrics(['--format', 'html']);
    expect(none.code).toBe(0);
    expect(none.stdout).not.toContain('svg class="map"');
    const missing = await metrics(['--format', 'html', '--workflows', 'nowhere']);
    expect([missing.code, missing.stdout, missing.stderr]).toEqual([2, '', 'flux: --workflows `nowhere`: no such directory\n']);
  });
});

describe('a map whose labels are written to break the page', () => {
  it('shows them as text: no element, script or request comes out of them, and the page still passes its checks', async () => {
    const loaded = await loadWorkflow(join(ROOT, 'test/graph/fixtures/every-kind.yaml'));
    if (!loaded.ok) throw new Error('fixture does not load');
    const graph = workflowGraph(loaded.workflow.value);
    const report = sampleReport();
    const svg = await dotToSvg(toDot(graph));
    const maps = new Map(report.workflows.map((w) => [w.name, { graph, svg }]));
    const file = join(mkdtempSync(join(tmpdir(), 'flux-graph-html-')), 'report.html');
    writeFileSync(file, formatHtml(report, { maps }));
    browser ??= await launchChromium();
    const { page, outside } = await openReport(browser, file);
    expect((await checkHtmlReport(page, report)).problems).toEqual([]);
    expect(outside).toEqual([]);
    const seen = await page.evaluate(() => ({
      maps: document.querySelectorAll('svg.map').length,
      injected: document.querySelectorAll('script, svg.map b, svg.map foreignObject, svg.map a').length,
      text: Array.from(document.querySelectorAll('svg.map text'), (t) => t.textContent ?? '').join('\n'),
      table: Array.from(document.querySelectorAll('figure.map table th[scope="row"]'), (t) => t.textContent ?? ''),
    }));
    expect(seen.maps).toBe(report.workflows.length);
    expect(seen.injected).toBe(0);
    expect(seen.text).toContain('Fetch "the" [lead] --> {now} </script><script>x</script>');
    expect(seen.table).toContain('fetch · Fetch "the" [lead] --> {now} </script><script>x</script> · crm.request · 3 attempts, timeout 5s');
  }, 60_000);
});
