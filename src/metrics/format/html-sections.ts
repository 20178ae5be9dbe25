/**
 * The report's tables that cut across workflows: leaked runs, owners, top failing steps, and
 * the warnings about lines that could not be read. Every table has a caption and header cells
 * with a scope, so a screen reader can say which column and row a number belongs to.
 */
import type { LeakedRun, MetricsReport, StepFigures, WorkflowFigures } from '../report.js';
import { esc, figure, formatCount, formatHours, formatMoney, formatRate, MAX_MESSAGE, plural, text, timeTag } from './html-text.js';

/** A table wrapped so a wide one scrolls sideways on a phone instead of widening the page; the caption is markup. */
export function table(captionHtml: string, head: readonly string[], rows: readonly string[], numeric: ReadonlySet<number> = new Set()): string {
  const th = head.map((h, i) => `<th scope="col"${numeric.has(i) ? ' class="num"' : ''}>${esc(h)}</th>`).join('');
  return `<div class="table-wrap"><table><caption>${captionHtml}</caption><thead><tr>${th}</tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
}

/** A leaked run's row; with `withWorkflow`, its workflow and owner too (the report-wide list). */
function leakedRow(run: LeakedRun, withWorkflow: boolean): string {
  const wf = withWorkflow ? `<td class="name">${text(run.workflow)}</td><td>${run.owner === null ? '<em>no owner</em>' : text(run.owner)}</td>` : '';
  return (
    `<tr class="leak" data-run="${text(run.run_id)}"><th scope="row"><code>${text(run.run_id)}</code></th>${wf}` +
    `<td>${run.last_step === null ? '<em>none ran</em>' : `<code>${text(run.last_step)}</code>`}</td>` +
    `<td>${timeTag(run.last_record_at)}</td><td>${text(run.reason, MAX_MESSAGE)}</td></tr>`
  );
}

/** The leaked runs as a table (the caption is markup: it may hold an escaped workflow name). */
export function leakedTable(runs: readonly LeakedRun[], captionHtml: string, withWorkflow: boolean): string {
  const head = withWorkflow ? ['Run', 'Workflow', 'Owner', 'Last step', 'Last record', 'Why it leaked'] : ['Run', 'Last step', 'Last record', 'Why it leaked'];
  return table(captionHtml, head, runs.map((r) => leakedRow(r, withWorkflow)));
}

/** The report-wide list of leaked runs, the target of the headline's link; nothing when there are none. */
export function leakedSection(report: MetricsReport): string {
  const count = report.leaked_runs.length + report.leaked_runs_omitted;
  if (count === 0 && report.totals.leaked === 0) return '';
  const omitted =
    report.leaked_runs_omitted > 0
      ? `<p class="finding">${figure('leaked_runs_omitted', {}, formatCount(report.leaked_runs_omitted))} more leaked runs are counted above but not listed here.</p>`
      : '';
  return (
    `<section id="leaked-runs" aria-labelledby="leaked-runs-h"><h2 id="leaked-runs-h">Leaked runs</h2>` +
    `<p>A run leaks when it failed and nobody was told (no escalation was delivered), or when it stopped without an end. The goal is none; each one below needs a person to look at it.</p>` +
    leakedTable(report.leaked_runs, 'Leaked runs, oldest last record first', true) +
    omitted +
    `</section>`
  );
}

/** Owners: their workflows, leakage and reclaimed hours; workflows without an owner are a finding. */
export function ownersSection(report: MetricsReport): string {
  const rows = report.owners.map((o) => {
    const s = { owner: o.owner };
    return (
      `<tr${o.leaked > 0 ? ' class="leak"' : ''}><th scope="row">${text(o.owner)}</th>` +
      `<td class="name">${o.workflows.map((w) => text(w)).join(', ')}</td>` +
      `<td class="num">${figure('runs_started', s, formatCount(o.runs_started))}</td>` +
      `<td class="num">${figure('leaked', s, formatCount(o.leaked))}</td>` +
      `<td class="num">${figure('leakage_rate', s, formatRate(o.leakage_rate))}</td>` +
      `<td class="num">${figure('reclaimed_hours', s, formatHours(o.reclaimed_hours))}</td>` +
      `<td class="num">${figure('reclaimed_value', s, formatMoney(o.reclaimed_value, o.currency))}</td></tr>`
    );
  });
  const orphans = report.workflows.filter((w) => w.owner === null);
  const finding =
    orphans.length === 0
      ? ''
      : `<p class="finding"><strong>${plural(orphans.length, 'workflow')} without an owner:</strong> ${orphans.map((w) => `<span class="name">${text(w.name)}</span>`).join(', ')}. Nobody answers for ${orphans.length === 1 ? 'its' : 'their'} failures; set <code>owner</code> in the workflow file.</p>`;
  const body =
    rows.length === 0
      ? '<p>No owners: no workflow ran in this window.</p>'
      : table('Owners, their leakage and reclaimed hours', ['Owner', 'Workflows', 'Runs started', 'Leaked', 'Leakage', 'Reclaimed', 'Value'], rows, new Set([2, 3, 4, 5, 6]));
  return `<section aria-labelledby="owners-h"><h2 id="owners-h">Owners</h2>${body}${finding}</section>`;
}

/** A step's most common error with how often it was seen, or a dash. */
export function topError(step: StepFigures): string {
  if (step.top_error === null) return '<span class="muted">—</span>';
  const scope = { workflow: step.workflow, step: step.step };
  return `${text(step.top_error.message, MAX_MESSAGE)} <span class="muted">(${figure('top_error.count', scope, formatCount(step.top_error.count))}×)</span>`;
}

/** The steps that failed most across workflows. */
export function topFailingSection(report: MetricsReport): string {
  const rows = report.top_failing_steps.map((s) => {
    const scope = { workflow: s.workflow, step: s.step };
    return (
      `<tr><th scope="row"><code>${text(s.step)}</code></th><td class="name">${text(s.workflow)}</td>` +
      `<td class="num">${figure('failed', scope, formatCount(s.failed))}</td>` +
      `<td class="num">${figure('finished', scope, formatCount(s.finished))}</td>` +
      `<td class="num">${figure('retries', scope, formatCount(s.retries))}</td><td>${topError(s)}</td></tr>`
    );
  });
  const body =
    rows.length === 0
      ? '<p>No step failed in this window.</p>'
      : table('Steps with the most failures, across workflows', ['Step', 'Workflow', 'Failures', 'Finished', 'Retries', 'Most common error'], rows, new Set([2, 3, 4]));
  return `<section aria-labelledby="failing-h"><h2 id="failing-h">Top failing steps</h2>${body}</section>`;
}

/** Lines and files that could not be used, as `file:line: message`. */
export function warningsSection(report: MetricsReport): string {
  const items = report.warnings.map((w) => {
    const where = w.line === null ? text(w.file) : `${text(w.file)}:${w.line}`;
    return `<li><code>${where}</code>: ${text(w.message, MAX_MESSAGE)}</li>`;
  });
  const omitted =
    report.warnings_omitted > 0 ? `<p>${figure('warnings_omitted', {}, formatCount(report.warnings_omitted))} more warnings are counted but not listed.</p>` : '';
  const body =
    items.length === 0 && report.warnings_omitted === 0
      ? '<p>No warnings: every line of every log file was read.</p>'
      : `<p>These lines could not be used; the figures above leave them out.</p><ul class="warnings">${items.join('')}</ul>${omitted}`;
  return `<section aria-labelledby="warnings-h"><h2 id="warnings-h">Warnings</h2>${body}</section>`;
}

/** The listed leaked runs of one workflow, for its own section. */
export function leakedOf(report: MetricsReport, wf: WorkflowFigures): readonly LeakedRun[] {
  return report.leaked_runs.filter((r) => r.workflow === wf.name);
}
