/**
 * One workflow's section of the HTML report: its owner, its figures (reclaimed time and money,
 * runs, rates, response and cycle time against the manual baseline), its charts over the
 * periods, its step table and its leaked runs.
 */
import type { MetricsReport, RunCounts, WorkflowFigures } from '../report.js';
import { hoursChart, responseChart, runsChart } from './html-charts.js';
import { mapFigure, type WorkflowMap } from './html-map.js';
import { leakedOf, leakedTable, table, topError } from './html-sections.js';
import { OUTCOME_CLASSES } from './html-style.js';
import {
  figure, formatCount, formatHours, formatMoney, formatMs, formatRate, formatSeconds, formatSpeedup, plural, text, type Scope,
} from './html-text.js';

/** "339x faster than by hand", or slower when the automation loses to a person. */
export function speedupPhrase(speedup: number | null, scope: Scope): string {
  if (speedup === null || !Number.isFinite(speedup)) return '';
  const x = figure('response_speedup', scope, formatSpeedup(speedup), 'speedup');
  return speedup >= 1 ? `${x} faster than by hand` : `${x} the speed of doing it by hand (slower)`;
}

/** The run counts in words: started and succeeded always, the other outcomes when they happened. */
export function runsLine(runs: RunCounts, scope: Scope): string {
  const parts = [`${figure('runs.started', scope, formatCount(runs.started))} started`];
  for (const k of OUTCOME_CLASSES) {
    if (k === 'succeeded' || runs[k] > 0) parts.push(`${figure(`runs.${k}`, scope, formatCount(runs[k]))} ${k}`);
  }
  return parts.join(' · ');
}

function quantiles(metric: 'response_seconds' | 'cycle_seconds' | 'ack_seconds', wf: WorkflowFigures, scope: Scope): string {
  const q = wf[metric];
  return (['p50', 'p90', 'p99'] as const).map((k) => `${k} ${figure(`${metric}.${k}`, scope, formatSeconds(q[k]))}`).join(' · ');
}

function item(term: string, detail: string): string {
  return `<div><dt>${term}</dt><dd>${detail}</dd></div>`;
}

/** The workflow's headline figures as a definition list. */
function figures(wf: WorkflowFigures, scope: Scope): string {
  const b = wf.baseline;
  const value = wf.reclaimed_value === null ? '' : `, worth ${figure('reclaimed_value', scope, formatMoney(wf.reclaimed_value, wf.currency))}`;
  const handTime =
    wf.response_baseline_seconds === null
      ? 'no manual response time declared'
      : `by hand ${figure('response_baseline_seconds', scope, formatSeconds(wf.response_baseline_seconds))}${wf.response_speedup === null ? '' : `: ${speedupPhrase(wf.response_speedup, scope)}`}`;
  const baseline =
    b === null
      ? 'none declared'
      : [
          b.minutes_per_run === null ? null : `${figure('baseline.minutes_per_run', scope, formatSeconds(b.minutes_per_run * 60))} of work per run`,
          b.response_minutes === null ? null : `${figure('baseline.response_minutes', scope, formatSeconds(b.response_minutes * 60))} to respond`,
          b.hourly_cost === null ? null : `${figure('baseline.hourly_cost', scope, formatMoney(b.hourly_cost, b.currency))} per hour`,
        ]
          .filter((x) => x !== null)
          .join(' · ') || 'declared, without figures';
  const changed = wf.baselines_seen > 1 ? ` <span class="muted">(${figure('baselines_seen', scope, formatCount(wf.baselines_seen))} baselines in this window; each run counts with its own)</span>` : '';
  return (
    `<dl class="figures">` +
    item('Reclaimed', `${figure('reclaimed_hours', scope, formatHours(wf.reclaimed_hours))}${value}`) +
    item('Runs', runsLine(wf.runs, scope)) +
    item('Success and errors', `${figure('success_rate', scope, formatRate(wf.success_rate))} succeeded · ${figure('error_rate', scope, formatRate(wf.error_rate))} errors`) +
    item('Leakage', `${figure('leakage_rate', scope, formatRate(wf.leakage_rate))} of runs (${figure('leaked', scope, formatCount(wf.leaked))} leaked)`) +
    item('Time to response', `${quantiles('response_seconds', wf, scope)}<br>${handTime}`) +
    item('Cycle time', quantiles('cycle_seconds', wf, scope)) +
    (wf.ack_seconds.p50 === null ? '' : item('Time to acknowledgement', quantiles('ack_seconds', wf, scope))) +
    item('Manual baseline', `${baseline}${changed}`) +
    `</dl>`
  );
}

/** The step table: duration p50/p95, retries, failures and the most common error of each step. */
function stepTable(wf: WorkflowFigures): string {
  if (wf.steps.length === 0) return '<p>No step finished in this window.</p>';
  const rows = wf.steps.map((s) => {
    const scope = { workflow: wf.name, step: s.step };
    return (
      `<tr${s.failed > 0 ? ' class="leak"' : ''}><th scope="row"><code>${text(s.step)}</code></th>` +
      `<td class="num">${figure('finished', scope, formatCount(s.finished))}</td>` +
      `<td class="num">${figure('duration_ms.p50', scope, formatMs(s.duration_ms.p50))}</td>` +
      `<td class="num">${figure('duration_ms.p95', scope, formatMs(s.duration_ms.p95))}</td>` +
      `<td class="num">${figure('retries', scope, formatCount(s.retries))}</td>` +
      `<td class="num">${figure('failed', scope, formatCount(s.failed))}</td><td>${topError(s)}</td></tr>`
    );
  });
  return table(
    `Steps of <span class="name">${text(wf.name)}</span>`,
    ['Step', 'Finished', 'Duration p50', 'Duration p95', 'Retries', 'Failures', 'Most common error'],
    rows,
    new Set([1, 2, 3, 4, 5]),
  );
}

/**
 * The section of workflow number `index` (ids in the page are built from the index, never the
 * name), with the workflow's map beside its figures when its file was found.
 */
export function workflowSection(wf: WorkflowFigures, index: number, report: MetricsReport, map?: WorkflowMap): string {
  const id = `wf-${index}`;
  const scope: Scope = { workflow: wf.name };
  const owner =
    wf.owner === null
      ? '<p class="finding"><strong>No owner.</strong> Nobody answers for this workflow\'s failures: set <code>owner</code> in its file.</p>'
      : `<p class="meta">Owner: <strong>${text(wf.owner)}</strong></p>`;
  const leaked = leakedOf(report, wf);
  const leakNote =
    wf.leaked > 0 ? `<p class="finding"><strong>${plural(wf.leaked, 'leaked run')}.</strong> <a href="#${id}-leaked">See ${wf.leaked === 1 ? 'it' : 'them'} below</a>.</p>` : '';
  const owned = { id, workflow: wf.name, by: report.by, periods: wf.periods };
  const charts =
    wf.periods.length === 0 ? '<p>No runs in this window.</p>' : `<div class="charts">${runsChart(owned)}${hoursChart(owned)}${responseChart(owned)}</div>`;
  const unlisted = wf.leaked - leaked.length;
  const leakedPart =
    wf.leaked === 0 && leaked.length === 0
      ? ''
      : `<h3 id="${id}-leaked">Leaked runs</h3>` +
        (leaked.length === 0 ? '' : leakedTable(leaked, `Leaked runs of <span class="name">${text(wf.name)}</span>`, false)) +
        (unlisted > 0 ? `<p>${plural(unlisted, 'more leaked run')} counted but not listed (the report lists a limited number).</p>` : '');
  return (
    `<section class="workflow" id="${id}" aria-labelledby="${id}-h"><h2 id="${id}-h" class="name">${text(wf.name)}</h2>` +
    owner +
    leakNote +
    (map === undefined ? figures(wf, scope) : `<div class="with-map">${figures(wf, scope)}${mapFigure(map, id, wf.name)}</div>`) +
    `<h3>Over time</h3>${charts}` +
    `<h3>Steps</h3>${stepTable(wf)}` +
    leakedPart +
    `</section>`
  );
}
