/**
 * A metrics report as one self-contained HTML file, the page an owner forwards to their CFO:
 * inline CSS and SVG, no script, no fonts or images to fetch (a Content-Security-Policy in the
 * page forbids loading anything, so it reads the same offline and cannot be made to phone
 * home), printable, and readable on a phone.
 *
 * Order: the title and window; a summary band whose headline is leakage whenever a run leaked;
 * the list of leaked runs; one section per workflow; owners; top failing steps; warnings.
 * Every figure carries `data-metric` attributes naming its place in the JSON report, so a test
 * can read the page back and compare it with the report (test/metrics/html-check.ts).
 */
import type { MetricsReport, WorkflowFigures } from '../report.js';
import { hoursChart, runsChart } from './html-charts.js';
import { liveSection } from './html-live.js';
import { leakedSection, ownersSection, topFailingSection, warningsSection } from './html-sections.js';
import { CSS } from './html-style.js';
import {
  esc, figure, formatCount, formatHours, formatMoney, formatRate, formatSeconds, formatTime, plural, text, timeTag, type Scope,
} from './html-text.js';
import type { WorkflowMap } from './html-map.js';
import { speedupPhrase, workflowSection } from './html-workflow.js';

// Nothing may be loaded or run: styles are inline, images are inline SVG.
const CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

const TOTALS: Scope = { totals: true };

// The document's title is what a forwarded file shows in a tab or an attachment list, so a
// leak leads it there too.
function documentTitle(report: MetricsReport): string {
  const since = report.window.since === null ? 'the first record' : formatTime(report.window.since);
  const leaked = report.totals.leaked > 0 ? `${plural(report.totals.leaked, 'leaked run')} · ` : '';
  return `${leaked}Automation metrics, ${since} to ${formatTime(report.window.until)}`;
}

function header(report: MetricsReport): string {
  const since = report.window.since === null ? 'the first record' : timeTag(report.window.since);
  return (
    `<header><h1>Automation metrics</h1>` +
    `<p class="meta">From ${since} to ${timeTag(report.window.until)}, ${esc(report.by === 'day' ? 'by day' : `by ${report.by}`)}. ` +
    `Generated ${timeTag(report.generated_at)} by <code>flux metrics</code>.</p></header>`
  );
}

function leakTile(report: MetricsReport): string {
  const t = report.totals;
  if (t.leaked === 0) {
    return `<div class="tile good"><p class="label">Leakage</p><span class="big">${figure('leaked', TOTALS, formatCount(0))}</span><p>No run failed silently or stopped without an end.</p></div>`;
  }
  return (
    `<div class="tile alert headline"><p class="label">Needs attention: leakage</p>` +
    `<span class="big">${figure('leaked', TOTALS, formatCount(t.leaked))} leaked ${t.leaked === 1 ? 'run' : 'runs'}</span>` +
    `<p>${figure('leakage_rate', TOTALS, formatRate(t.leakage_rate))} of the runs started failed with nobody told, or stopped without an end. ` +
    `<a href="#leaked-runs">See the leaked runs</a>.</p></div>`
  );
}

function responseDetail(report: MetricsReport): string {
  const t = report.totals;
  if (t.response_speedup !== null) {
    return `<p>${speedupPhrase(t.response_speedup, TOTALS)} (by hand: ${figure('response_baseline_seconds', TOTALS, formatSeconds(t.response_baseline_seconds))}).</p>`;
  }
  // Workflows declare different manual times, so there is no one ratio for all: say each one's.
  const each = report.workflows.filter((w) => w.response_speedup !== null);
  if (each.length === 0) return '<p>No workflow declares a manual response time to compare with.</p>';
  const items = each.map((w) => `<li><span class="name">${text(w.name)}</span>: ${speedupPhrase(w.response_speedup, { workflow: w.name })}</li>`);
  return `<ul class="speedups">${items.join('')}</ul>`;
}

function summary(report: MetricsReport): string {
  const t = report.totals;
  const value =
    t.runs.succeeded === 0
      ? '<p>No run succeeded in this window.</p>'
      : t.reclaimed_value === null
      ? '<p>No hourly cost declared, or the workflows use different currencies.</p>'
      : `<p>worth ${figure('reclaimed_value', TOTALS, formatMoney(t.reclaimed_value, t.currency))} at the baselines' hourly cost.</p>`;
  // A leak is the headline, above everything; no leak is one good tile among the others.
  const leak = leakTile(report);
  const tiles =
    (t.leaked > 0 ? '' : leak) +
    `<div class="tile"><p class="label">Time reclaimed</p><span class="big">${figure('reclaimed_hours', TOTALS, formatHours(t.reclaimed_hours))}</span>${value}</div>` +
    `<div class="tile"><p class="label">Runs started</p><span class="big">${figure('runs.started', TOTALS, formatCount(t.runs.started))}</span>` +
    (t.success_rate === null
      ? `<p>None finished yet (${figure('runs.succeeded', TOTALS, formatCount(t.runs.succeeded))} succeeded, ${figure('success_rate', TOTALS, formatRate(null))} success rate).</p></div>`
      : `<p>${figure('success_rate', TOTALS, formatRate(t.success_rate))} of finished runs succeeded (${figure('runs.succeeded', TOTALS, formatCount(t.runs.succeeded))}).</p></div>`) +
    `<div class="tile"><p class="label">Time to response, p50</p><span class="big">${figure('response_seconds.p50', TOTALS, formatSeconds(t.response_seconds.p50))}</span>${responseDetail(report)}</div>`;
  const owned = { id: 'total', workflow: null, by: report.by, periods: t.periods };
  // Without periods the workflow list below says that nothing ran; no empty charts.
  const charts = t.periods.length === 0 ? '' : `<div class="charts">${runsChart(owned)}${hoursChart(owned)}</div>`;
  return `<section aria-labelledby="summary-h"><h2 id="summary-h">Summary</h2>${t.leaked > 0 ? leak : ''}<div class="tiles">${tiles}</div>${charts}${nav(report.workflows)}</section>`;
}

function nav(workflows: readonly WorkflowFigures[]): string {
  if (workflows.length === 0) return '<p>No workflow ran in this window.</p>';
  const links = workflows.map(
    (w, i) => `<li><a href="#wf-${i}" class="name">${text(w.name)}</a>${w.leaked > 0 ? ` <strong class="muted">(${plural(w.leaked, 'leaked run')})</strong>` : ''}</li>`,
  );
  return `<nav aria-label="Workflows"><p><strong>${plural(workflows.length, 'workflow')}:</strong></p><ul>${links.join('')}</ul></nav>`;
}

function footer(report: MetricsReport): string {
  const r: Scope = {}; // figures of the report itself, not of a workflow
  return (
    `<footer><p>Read from ${figure('input.files', r, formatCount(report.input.files))} log files, ` +
    `${figure('input.records', r, formatCount(report.input.records))} records. ` +
    `A run with no end whose last record is older than ${figure('stale_after_seconds', r, formatSeconds(report.stale_after_seconds))} counts as leaked. ` +
    `Reclaimed time is each succeeded run's declared manual minutes; its value, those hours at the run's declared hourly cost. ` +
    `Report format version ${esc(String(report.version))}.</p></footer>`
  );
}

/** What the page shows besides the report: each workflow's map, by workflow name, when its file was found. */
export interface HtmlOptions {
  readonly maps?: ReadonlyMap<string, WorkflowMap> | undefined;
}

/** Renders the report as one self-contained HTML file. */
export function formatHtml(report: MetricsReport, options: HtmlOptions = {}): string {
  return (
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<meta name="generator" content="flux metrics">` +
    `<title>${esc(documentTitle(report))}</title><style>${CSS}</style></head>\n<body><main>` +
    header(report) +
    summary(report) +
    leakedSection(report) +
    report.workflows.map((w, i) => workflowSection(w, i, report, options.maps?.get(w.name))).join('\n') +
    ownersSection(report) +
    topFailingSection(report) +
    liveSection(report.live) +
    warningsSection(report) +
    footer(report) +
    `</main></body></html>\n`
  );
}
