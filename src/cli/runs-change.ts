/**
 * `flux runs retry ID` and `flux runs cancel ID`: the two changes an operator makes to a run.
 * Both are single conditional writes in the store, so they are safe while a daemon runs and
 * when two operators act at once; each prints what happened and what comes next.
 *
 * A retry is a new run, linked to the failed one, whose journal starts as a copy of the
 * failed run's (Store.retryRun): the daemon replays the steps that completed (not calling them
 * again) and runs again from the step that failed, on the workflow version the run started
 * with. Each run keeps one log with one end. Cancelling a waiting run ends it at once, and its
 * run log (which stopped at run.waiting) gets its run.finished, so the log says how it ended.
 */
import { isCompletionKey } from '../daemon/journal-keys.js';
import { existsSync } from 'node:fs';
import { newRunId } from '../engine/run-id.js';
import { FileJournal, readRunLog, recordAfter, runLogPath } from '../store/run-log.js';
import { RETRYABLE_STATES, type RunRow, type RunState } from '../store/store.js';
import { escapeControl } from '../text/escape.js';
import { ExitCode, UsageError, type Io } from './io.js';
import { shortHash } from './runs-format.js';
import { clockOf, openStore, runIdArgument, runningDaemon, stateDirOf, type StateDir } from './runs-state.js';

/** The options of `flux runs retry` and `flux runs cancel`. */
export interface RunsChangeOptions {
  readonly stateDir?: string | undefined;
}

const CANCELLED = 'the run was cancelled';

/** Where a run stands, as a sentence says it. */
const STATE_WORDS: Readonly<Record<RunState, string>> = {
  queued: 'is queued', running: 'is running', waiting: 'is waiting', succeeded: 'succeeded', failed: 'failed', escalated: 'was escalated',
  cancelled: 'was cancelled', rejected: 'was rejected',
};

/** Retries a failed or escalated run from its failed step. */
export async function runsRetryCommand(idArg: string, options: RunsChangeOptions, io: Io): Promise<number> {
  const id = runIdArgument(idArg);
  const clock = clockOf(io);
  const state = stateDirOf(options.stateDir, io);
  const store = await openStore(state, clock, 'write');
  try {
    const now = clock.now();
    const outcome = await store.retryRun(id, newRunId(now), now);
    switch (outcome.outcome) {
      case 'not-found':
        throw new UsageError(`no run \`${id}\` in ${state.shown} (\`flux runs\` lists the runs there)`);
      case 'not-retryable':
        io.stderr.write(`flux: run ${id} ${STATE_WORDS[outcome.status]}; only ${RETRYABLE_STATES.join(' or ')} runs can be retried\n`);
        return ExitCode.problems;
      case 'exists': {
        const retry = await store.getRun(outcome.id);
        const status = retry?.status ?? 'unknown';
        const again = (RETRYABLE_STATES as readonly string[]).includes(status) ? `; to run it again, retry that one: flux runs retry ${escapeControl(outcome.id)}` : '';
        io.stdout.write(`run ${id} was already retried as ${escapeControl(outcome.id)} (${status})${again}\n`);
        return ExitCode.ok;
      }
      case 'created': {
        const original = await store.getRun(id);
        // Counted in the original's journal, which the retry's starts as a copy of: a daemon may
        // already be running the retry and adding to its journal by now.
        const replayed = (await store.journalFor(id)).filter((e) => e.kind === 'step' && isCompletionKey(e.key)).length;
        const from = original?.error?.step !== undefined ? ` and runs again from step \`${escapeControl(original.error.step)}\`` : '';
        io.stdout.write(`run ${id} retried as ${escapeControl(outcome.id)} (queued, on workflow version ${shortHash(original?.workflowVersion ?? '?')}, the one ${id} ran)\n`);
        io.stdout.write(`  it replays ${replayed === 1 ? '1 completed step without calling it' : `${replayed} completed steps without calling them`} again${from}\n`);
        io.stdout.write(`  ${whoRunsIt(state)}\n`);
        return ExitCode.ok;
      }
    }
  } finally {
    await store.close();
  }
}

/** Cancels a run: a queued or waiting one at once, a running one at its next step. */
export async function runsCancelCommand(idArg: string, options: RunsChangeOptions, io: Io): Promise<number> {
  const id = runIdArgument(idArg);
  const clock = clockOf(io);
  const state = stateDirOf(options.stateDir, io);
  const store = await openStore(state, clock, 'write');
  try {
    const before = await store.getRun(id);
    if (!before) throw new UsageError(`no run \`${id}\` in ${state.shown} (\`flux runs\` lists the runs there)`);
    const now = clock.now();
    const outcome = await store.cancelRun(id, now);
    const name = `run ${id} (${escapeControl(before.workflow)})`;
    switch (outcome) {
      case 'cancelled': {
        // The write decided; `before` only says what the run was doing a moment earlier.
        const was = before.status === 'queued' ? 'it was queued and will not start' : before.status === 'waiting' ? 'it was waiting and will not resume' : 'it will not run';
        io.stdout.write(`${name} cancelled: ${was}\n`);
        const problem = await endRunLog(state, before, now);
        if (problem) io.stderr.write(`flux: ${problem}\n`);
        return ExitCode.ok;
      }
      case 'requested': {
        const daemon = runningDaemon(state);
        io.stdout.write(`${name} is running: cancel requested; it stops before its next step\n`);
        if (daemon === undefined) io.stdout.write(`  no daemon is running on ${state.shown} now: when its lease lapses the run is cancelled, not resumed\n`);
        return ExitCode.ok;
      }
      case 'finished': {
        const status = (await store.getRun(id))?.status ?? before.status;
        if (status === 'cancelled') {
          io.stdout.write(`${name} was already cancelled\n`);
          return ExitCode.ok;
        }
        io.stderr.write(`flux: ${name} already ended ${status}; there is nothing to cancel\n`);
        return ExitCode.problems;
      }
      case 'not-found':
        throw new UsageError(`no run \`${id}\` in ${state.shown} (\`flux runs\` lists the runs there)`);
    }
  } finally {
    await store.close();
  }
}

/** Says who will run a queued run: the daemon running on the state directory, or the next one. */
function whoRunsIt(state: StateDir): string {
  const pid = runningDaemon(state);
  return pid !== undefined
    ? `the daemon running on ${state.shown} (pid ${pid}) picks it up`
    : `no daemon is running on ${state.shown}: it runs when \`flux daemon --state-dir ${state.shown}\` starts`;
}

/**
 * Ends the run log of a run cancelled while it waited (it stopped at run.waiting, and no
 * runner will write to it again: the run is no longer waiting). A run cancelled before it
 * started has no log. Returns a problem to report, if the log could not be completed.
 */
async function endRunLog(state: StateDir, run: RunRow, now: number): Promise<string | undefined> {
  const path = runLogPath(state.logDir, run.workflow, run.id);
  if (!existsSync(path)) return undefined;
  try {
    const { records } = readRunLog(path);
    const first = records[0];
    if (!first || records.some((r) => r.type === 'run.finished')) return undefined;
    const started = records.find((r) => r.type === 'run.started')?.ts ?? first.ts;
    const log = new FileJournal(path);
    log.append(recordAfter(first, { type: 'run.finished', status: 'cancelled', duration_ms: Math.max(0, now - Date.parse(started)), error: { message: CANCELLED } }, now));
    await log.close();
    return undefined;
  } catch (error) {
    return `the run is cancelled, but its run log ${escapeControl(path)} could not be ended: ${escapeControl(error instanceof Error ? error.message : String(error))}`;
  }
}
