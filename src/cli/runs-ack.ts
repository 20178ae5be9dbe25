/**
 * `flux runs ack ID --as NAME`: acknowledges an escalated run's escalation from the terminal,
 * as the link in the escalation message does (daemon/ack.ts): the same check of who may, the
 * same conditional write (one acknowledgement wins, safe beside running daemons), the same
 * `escalation.acked` record in the run's log. It works after the link has expired too.
 *
 * Exit codes: 0 acknowledged (or already, by the same person); 1 refused: NAME may not
 * acknowledge it, someone else already did, or the run has no escalation waiting for one;
 * 2 usage, an unknown run or state directory.
 */
import { acknowledge, MAX_ACK_NAME } from '../daemon/ack.js';
import { escapeControl } from '../text/escape.js';
import { ExitCode, UsageError, type Io } from './io.js';
import { minutes } from './runs-format.js';
import { clockOf, openStore, runIdArgument, stateDirOf } from './runs-state.js';

export interface RunsAckOptions {
  readonly as: string;
  readonly stateDir?: string | undefined;
}

/** Records NAME's acknowledgement of run ID's escalation. */
export async function runsAckCommand(idArg: string, options: RunsAckOptions, io: Io): Promise<number> {
  const id = runIdArgument(idArg);
  const name = options.as.trim();
  if (name === '' || name.length > MAX_ACK_NAME || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new UsageError(`--as takes who acknowledges (the owner, or a member or the backup of the owner team), not \`${escapeControl(options.as.slice(0, 100))}\``);
  }
  const clock = clockOf(io);
  const state = stateDirOf(options.stateDir, io);
  const store = await openStore(state, clock, 'write');
  try {
    const now = clock.now();
    const result = await acknowledge(store, state.logDir, id, name, 'cli', now);
    const at = (ms: number | null) => (ms === null ? '?' : new Date(ms).toISOString());
    switch (result.kind) {
      case 'acked': {
        const e = result.escalation;
        const late = now > e.ackDueAt ? `, ${minutes(now - e.ackDueAt)} after its deadline` : '';
        const then = e.thenSentAt !== null ? '; the `then` call was already made' : e.hasThen ? '; the `then` call will not be made' : '';
        io.stdout.write(`run ${id} (${escapeControl(e.workflow)}): escalation acknowledged by ${escapeControl(e.ackedBy ?? name)} at ${at(e.ackedAt)}, ${minutes(now - e.escalatedAt)} after it was escalated${late}${then}\n`);
        if (result.logProblem) io.stderr.write(`flux: ${escapeControl(result.logProblem)}\n`);
        return ExitCode.ok;
      }
      case 'already': {
        const e = result.escalation;
        const same = (e.ackedBy ?? '').toLowerCase() === name.toLowerCase();
        const line = `run ${id} (${escapeControl(e.workflow)}): escalation already acknowledged by ${escapeControl(e.ackedBy ?? '?')} at ${at(e.ackedAt)} (via ${escapeControl(e.ackedVia ?? '?')})\n`;
        if (same) io.stdout.write(line);
        else io.stderr.write(`flux: ${line}`);
        return same ? ExitCode.ok : ExitCode.problems;
      }
      case 'not-member': {
        const e = result.escalation;
        const who = e.members.map((m) => escapeControl(m)).join(', ');
        io.stderr.write(`flux: ${escapeControl(name)} may not acknowledge run ${id}'s escalation: it is for ${escapeControl(e.owner)} (${who})\n`);
        return ExitCode.problems;
      }
      case 'not-found': {
        const run = await store.getRun(id);
        if (!run) throw new UsageError(`no run \`${id}\` in ${state.shown} (\`flux runs\` lists the runs there)`);
        const why = run.status === 'escalated' || run.status === 'failed' ? `its escalation asked for no acknowledgement (no \`ack_within\`)` : `it ${run.status === 'succeeded' ? 'succeeded' : `is ${run.status}`}, nothing was escalated`;
        io.stderr.write(`flux: run ${id} (${escapeControl(run.workflow)}) has no escalation to acknowledge: ${why}\n`);
        return ExitCode.problems;
      }
    }
  } finally {
    await store.close();
  }
}
