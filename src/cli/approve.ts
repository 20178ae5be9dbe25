/**
 * `flux approve RUN_ID [STEP] --choice X [--input k=v]... --as NAME [--state-dir DIR]`: answer
 * an approval step from the command line. The answer is checked as the page checks it (the
 * person is listed, the choice offered, the inputs typed) and recorded in the state directory's
 * store, once (a conditional write, beside a running daemon); the daemon then goes on with the
 * run at its next poll. STEP may be left out when the run waits on exactly one approval.
 * Exit 0 recorded; 1 refused (not an approver, already answered, closed), with the reason;
 * 2 usage, an unknown run or step, or a state directory it cannot use.
 */
import { answerApproval } from '../approvals/answering.js';
import { requestStepKey } from '../approvals/request.js';
import type { Store } from '../store/store.js';
import { escapeControl } from '../text/escape.js';
import { ExitCode, UsageError, type Io } from './io.js';
import { clockOf, openStore, runIdArgument, stateDirOf } from './runs-state.js';

export interface ApproveOptions {
  readonly choice: string;
  readonly input?: readonly string[] | undefined;
  readonly as: string;
  readonly stateDir?: string | undefined;
}

/** Records one answer; returns the exit code. */
export async function approveCommand(runId: string, step: string | undefined, options: ApproveOptions, io: Io): Promise<number> {
  const inputs: Record<string, string> = {};
  for (const pair of options.input ?? []) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--input takes NAME=VALUE, not \`${escapeControl(pair.slice(0, 200))}\``);
    inputs[pair.slice(0, at)] = pair.slice(at + 1);
  }
  const id = runIdArgument(runId);
  const clock = clockOf(io);
  const store = await openStore(stateDirOf(options.stateDir, io), clock, 'write');
  try {
    if (step !== undefined && (step.length > 200 || step === '')) throw new UsageError('STEP must be an approval step id (at most 200 characters)');
    const key = step ?? (await onlyApproval(store, id));
    const now = clock.now();
    const result = await answerApproval(store, id, key, { choice: options.choice, inputs, as: options.as }, 'cli', null, now);
    const where = `run ${id} step ${escapeControl(key)}`;
    if (result.ok) {
      io.stdout.write(`recorded: ${escapeControl(result.answer.choice)} by ${escapeControl(result.answer.approver)} for ${where}\n`);
      return ExitCode.ok;
    }
    if (result.status === 404) throw new UsageError(`${escapeControl(result.reason)}`);
    io.stderr.write(`flux approve: refused (${where}): ${escapeControl(result.reason)}\n`);
    return ExitCode.problems;
  } finally {
    await store.close();
  }
}

/** The one approval step the run has asked and not closed; a usage error when there is none or several. */
async function onlyApproval(store: Store, runId: string): Promise<string> {
  if (!(await store.getRun(runId))) throw new UsageError(`no run ${escapeControl(runId)} in the state directory`);
  const keys = (await store.journalFor(runId)).map((e) => e.key);
  const done = new Set(keys);
  const asked = keys.map((k) => requestStepKey(k, runId)).filter((k): k is string => k !== undefined);
  const open = asked.filter((k) => !done.has(k));
  if (open.length === 1) return open[0]!;
  // Only closed ones: the latest is named, and the answer is refused as closed (exit 1).
  if (open.length === 0 && asked.length > 0) return asked[asked.length - 1]!;
  if (open.length === 0) throw new UsageError(`run ${escapeControl(runId)} has not asked for an approval`);
  throw new UsageError(`run ${escapeControl(runId)} waits on several approvals (${open.map((k) => escapeControl(k)).join(', ')}): name the step`);
}
