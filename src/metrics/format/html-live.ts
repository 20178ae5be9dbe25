/**
 * The "Live" section of the HTML report (`flux metrics --store`): what the daemons' store said
 * when the report was made, beside the window's figures: runs in flight and escalations
 * awaiting an answer per workflow, failing polls, and how the store settled the runs whose logs
 * have no end. Each figure carries `data-live` (its name under `live` in the JSON) and
 * `data-workflow`, as the other figures carry `data-metric`.
 */
import type { LiveFigures } from '../report.js';
import { table } from './html-sections.js';
import { formatCount, MAX_MESSAGE, text, timeTag } from './html-text.js';

/** The section; nothing without a store. */
export function liveSection(live: LiveFigures | undefined): string {
  if (live === undefined) return '';
  const names = [...new Set([...live.runs.map((r) => r.workflow), ...live.escalations.map((e) => e.workflow)])].sort();
  const runs = new Map(live.runs.map((r) => [r.workflow, r]));
  const escs = new Map(live.escalations.map((e) => [e.workflow, e]));
  const cell = (name: string, workflow: string, n: number): string =>
    `<td class="num" data-live="${name}" data-workflow="${text(workflow)}">${formatCount(n)}</td>`;
  const rows = names.map((w) => {
    const r = runs.get(w);
    const e = escs.get(w);
    return (
      `<tr${(e?.overdue ?? 0) > 0 ? ' class="leak"' : ''}><th scope="row">${text(w)}</th>` +
      cell('queued', w, r?.queued ?? 0) + cell('running', w, r?.running ?? 0) + cell('waiting', w, r?.waiting ?? 0) +
      cell('unacknowledged', w, e?.unacknowledged ?? 0) + cell('overdue', w, e?.overdue ?? 0) + `</tr>`
    );
  });
  const body = rows.length === 0
    ? '<p>No run in flight and no escalation awaiting an answer.</p>'
    : table('Runs and escalations in the store now, by workflow', ['Workflow', 'Queued', 'Running', 'Waiting', 'Escalations unacknowledged', 'Overdue'], rows, new Set([1, 2, 3, 4, 5]));
  const polls = live.failing_polls.length === 0 ? '' : `<p>Polls failing now:</p><ul class="warnings">${live.failing_polls.map((p) =>
    `<li><code>${text(p.workflow)}</code>: <span data-live="poll_failures" data-workflow="${text(p.workflow)}">${formatCount(p.failures)}</span> failures in a row${p.last_error === null ? '' : `, last: ${text(p.last_error, MAX_MESSAGE)}`}</li>`).join('')}</ul>`;
  const open = live.open_runs_checked === 0 ? '' :
    `<p>Runs with no end in the logs, looked up in the store: ${formatCount(live.open_runs_checked)}; ` +
    `still in flight there (counted running or waiting, not leaked): <span data-live="open_runs_live">${formatCount(live.open_runs_live)}</span>; ` +
    `finished there, counted with the store's outcome (log incomplete: their end is in a log directory not given): <span data-live="log_incomplete_runs">${formatCount(live.log_incomplete_runs)}</span>.</p>`;
  return (
    `<section aria-labelledby="live-h"><h2 id="live-h">Live</h2>` +
    `<p>From the store <code>${text(live.store)}</code>, read ${timeTag(live.read_at)}.</p>` +
    body + polls + open + `</section>`
  );
}
