/**
 * `flux metrics --store`: what the daemons' shared store says now, beside what the logs say.
 * The logs of one daemon (or of those whose directories were given) cannot tell a run another
 * daemon holds from one that died; the store can. This reads, through the Store interface
 * (opened read-only by the caller), the runs in flight and escalations awaiting an answer per
 * workflow, the failing polls, and the state of each run whose logs have no end. It prints
 * nothing and changes nothing.
 */
import type { StoreVerdict } from './aggregate.js';
import { compareText } from './bounded.js';
import type { LiveFailingPoll, LiveFigures, LiveRuns, MetricsWarning } from './report.js';
import type { Store } from '../store/store.js';

/** Runs whose logs have no end that are looked up one by one; past this, --stale-after judges them. */
export const MAX_LOOKUPS = 10_000;
/** Look-ups in flight at once (a PostgreSQL pool serves several; SQLite answers in turn). */
const CONCURRENCY = 8;
/** A poll's last error is outside data: this much of it is kept. */
const MAX_ERROR = 500;

/** What the store said: the report's live part, and a verdict per open run it knows. */
export interface LiveRead {
  readonly live: LiveFigures;
  readonly verdicts: ReadonlyMap<string, StoreVerdict>;
  /** Runs settled by the store, and runs past the look-up bound: said in the report's warnings. */
  readonly warnings: readonly MetricsWarning[];
}

/** Run ids a warning names; the rest are counted. */
const NAMED = 5;

/**
 * Reads the live state at `now`, and looks up the open runs (at most `MAX_LOOKUPS` of them). A
 * run the store finished after `until` (an earlier --until) was in flight then, not incomplete.
 */
export async function readLive(store: Store, o: { readonly shown: string; readonly now: number; readonly until: number; readonly openRuns: readonly string[] }): Promise<LiveRead> {
  const [counts, escalations, polls] = await Promise.all([store.countRuns(), store.countEscalations(o.now), store.failingPolls()]);
  const runs = new Map<string, { queued: number; running: number; waiting: number }>();
  for (const c of counts) {
    let r = runs.get(c.workflow);
    if (r === undefined) runs.set(c.workflow, (r = { queued: 0, running: 0, waiting: 0 }));
    r[c.status] += c.count;
  }
  const runList: LiveRuns[] = [...runs].sort(([a], [b]) => compareText(a, b)).map(([workflow, r]) => ({ workflow, ...r }));
  const totals = { queued: 0, running: 0, waiting: 0 };
  for (const r of runList) for (const k of ['queued', 'running', 'waiting'] as const) totals[k] += r[k];

  const checked = o.openRuns.slice(0, MAX_LOOKUPS);
  const verdicts = new Map<string, StoreVerdict>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < checked.length) {
      const id = checked[next++]!;
      const row = await store.getRun(id);
      if (row !== undefined) verdicts.set(id, { status: row.status, finishedAt: row.status === 'queued' || row.status === 'running' || row.status === 'waiting' ? null : row.finishedAt ?? row.updatedAt });
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, checked.length) }, worker));
  const incomplete = [...verdicts].filter(([, v]) => v.finishedAt !== null && v.finishedAt <= o.until).map(([id]) => id).sort(compareText);
  const finished = incomplete.length;
  const warnings: MetricsWarning[] = [];
  if (finished > 0) {
    const named = incomplete.slice(0, NAMED).join(', ') + (finished > NAMED ? ` and ${finished - NAMED} more` : '');
    warnings.push({
      file: o.shown, line: null,
      message: `log incomplete: ${finished} run${finished === 1 ? '' : 's'} with no end in the logs ${finished === 1 ? 'is' : 'are'} finished in the store (${named}), counted with the store's outcome; their end is in a log directory not given: give every daemon's log directory`,
    });
  }
  if (o.openRuns.length > checked.length) {
    warnings.push({ file: o.shown, line: null, message: `${o.openRuns.length - checked.length} runs with no end in the logs beyond the first ${MAX_LOOKUPS} were not looked up in the store: judged by --stale-after` });
  }

  const failing: LiveFailingPoll[] = polls
    .filter((p) => p.failures > 0)
    .sort((a, b) => compareText(a.workflow, b.workflow))
    .map((p) => ({
      workflow: p.workflow,
      failures: p.failures,
      last_error: p.lastError === null ? null : p.lastError.length > MAX_ERROR ? `${p.lastError.slice(0, MAX_ERROR - 1)}…` : p.lastError,
      escalated_at: p.escalatedAt === null ? null : new Date(p.escalatedAt).toISOString(),
      next_poll_at: new Date(p.nextPollAt).toISOString(),
    }));
  return {
    live: {
      store: o.shown,
      read_at: new Date(o.now).toISOString(),
      runs: runList,
      totals,
      escalations: escalations.filter((e) => e.unacknowledged > 0).sort((a, b) => compareText(a.workflow, b.workflow)).map((e) => ({ workflow: e.workflow, unacknowledged: e.unacknowledged, overdue: e.overdue })),
      failing_polls: failing,
      open_runs_checked: checked.length,
      open_runs_live: verdicts.size - finished,
      log_incomplete_runs: finished,
      open_runs_unchecked: o.openRuns.length - checked.length,
    },
    verdicts,
    warnings,
  };
}
