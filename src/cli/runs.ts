/**
 * `flux runs`: the operator's view of the daemon's store. The list (`flux runs`) and
 * `flux runs show` open the store read-only, so they work with or without a daemon running,
 * need no write access and never hold the daemon up; `retry` and `cancel` (runs-change.ts)
 * write through the store's conditional updates, so they are safe beside a running daemon;
 * `show` is in runs-show.ts.
 *
 * Exit codes: 0 done; 1 the run is not in a state for the action (retrying a run that did not
 * fail, cancelling one that already ended); 2 usage or input errors, including a state
 * directory without a store and an unknown run id; 3 internal errors.
 */
import type { EscalationRow, PollState, RunRow, RunState } from '../store/store.js';
import { escapeControl } from '../text/escape.js';
import { parseDuration } from '../workflow/duration.js';
import { ExitCode, UsageError, type Io } from './io.js';
import { ackState, escalationJson, isoOrNull, minutes, progressOf, runJson, safeJson, shortTime, table } from './runs-format.js';
import { clockOf, openStore, stateDirOf } from './runs-state.js';

/** Every state a run can be in, as `--status` takes them. */
export const RUN_STATES: readonly RunState[] = ['queued', 'running', 'waiting', 'succeeded', 'failed', 'escalated', 'cancelled', 'rejected'];

/** The options of `flux runs` (the list), as given. */
export interface RunsListOptions {
  readonly workflow?: string | undefined;
  readonly status?: string | undefined;
  readonly since?: string | undefined;
  readonly limit?: string | undefined;
  readonly json?: boolean | undefined;
  readonly stateDir?: string | undefined;
}

const DEFAULT_LIMIT = 50;

/** Lists runs, newest first, as a table or one JSON document. */
export async function runsListCommand(options: RunsListOptions, io: Io): Promise<number> {
  const statuses = statusOption(options.status);
  const limit = limitOption(options.limit);
  const clock = clockOf(io);
  const since = options.since === undefined ? undefined : sinceOption(options.since, clock.now());
  const state = stateDirOf(options.stateDir, io);
  const store = await openStore(state, clock, 'read');
  let runs: RunRow[];
  let failing: PollState[];
  let escalations: Map<string, EscalationRow>;
  try {
    // One more than asked, to tell whether more runs match.
    runs = await store.listRuns({
      ...(options.workflow !== undefined ? { workflow: options.workflow } : {}), ...(statuses ? { status: statuses } : {}),
      ...(since !== undefined ? { since } : {}), limit: limit + 1,
    });
    // Polls that fail start no run: without this they would show nowhere here.
    failing = (await store.failingPolls()).filter((p) => options.workflow === undefined || p.workflow === options.workflow);
    const escalated = runs.filter((r) => r.status === 'escalated' || r.status === 'failed').map((r) => r.id);
    escalations = new Map(escalated.length === 0 ? [] : (await store.escalationsFor(escalated)).map((e) => [e.runId, e]));
  } finally {
    await store.close();
  }
  const more = runs.length > limit;
  if (more) runs = runs.slice(0, limit);
  const now = clock.now();
  if (options.json) {
    const polls = failing.map((p) => ({ workflow: p.workflow, failures: p.failures, last_error: p.lastError, next_poll_at: new Date(p.nextPollAt).toISOString(), escalated_at: p.escalatedAt === null ? null : new Date(p.escalatedAt).toISOString() }));
    io.stdout.write(`${safeJson({ runs: runs.map((r) => ({ ...runJson(r), ...escalationJson(escalations.get(r.id)) })), more, failing_polls: polls })}\n`);
    return ExitCode.ok;
  }
  if (runs.length === 0) {
    io.stdout.write(`no runs${describeFilter(options) ? ` match ${describeFilter(options)}` : ''} in ${state.shown}\n`);
    writeFailingPolls(failing, io);
    return ExitCode.ok;
  }
  // The acknowledgement column appears once a listed run has an escalation waiting for one.
  const ack = escalations.size > 0;
  io.stdout.write(table(
    ['ID', 'WORKFLOW', 'STATUS', 'TRIGGER', 'ATTEMPT', 'CREATED', 'DURATION', ...(ack ? ['ACKNOWLEDGEMENT'] : [])],
    runs.map((r) => [
      escapeControl(r.id), escapeControl(r.workflow), r.status, escapeControl(r.trigger), String(r.attempt), shortTime(r.createdAt), progressOf(r, now),
      ...(ack ? [ackState(escalations.get(r.id), now)] : []),
    ]),
  ));
  if (more) io.stderr.write(`flux: showing the newest ${limit}; more runs match (raise --limit, or narrow with --since, --status or --workflow)\n`);
  writeFailingPolls(failing, io);
  return ExitCode.ok;
}

/** Poll workflows whose polls keep failing, after the runs: how many in a row, when next, whether the owner was told, why. */
function writeFailingPolls(failing: readonly PollState[], io: Io): void {
  if (failing.length === 0) return;
  io.stdout.write('\nfailing polls (they start no runs until a poll succeeds):\n');
  for (const p of failing) {
    const told = p.escalatedAt === null ? '' : `, owner told ${shortTime(p.escalatedAt)}`;
    io.stdout.write(`  ${escapeControl(p.workflow)}: ${p.failures} in a row, next try ${shortTime(p.nextPollAt)}${told}: ${escapeControl(p.lastError ?? '')}\n`);
  }
}

function statusOption(value: string | undefined): RunState[] | undefined {
  if (value === undefined) return undefined;
  const list = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const unknown = list.filter((s) => !(RUN_STATES as readonly string[]).includes(s));
  if (list.length === 0 || unknown.length > 0) {
    throw new UsageError(`--status takes ${RUN_STATES.join(', ')} (or several, comma-separated), not \`${escapeControl(unknown[0] ?? value)}\``);
  }
  return list as RunState[];
}

function limitOption(value: string | undefined): number {
  if (value === undefined) return DEFAULT_LIMIT;
  if (!/^[1-9]\d{0,6}$/.test(value)) throw new UsageError(`--limit takes a whole number from 1 to 9999999, not \`${escapeControl(value)}\``);
  return Number(value);
}

/** `--since`: a duration back from now (`7d`, `12h`), or a date or time (`2026-11-01`, ISO-8601). */
export function sinceOption(value: string, now: number): number {
  const d = parseDuration(value);
  if (d.ok) return now - d.ms;
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value.trim())) {
    const text = value.trim().replace(' ', 'T');
    // A date alone, or a time without a zone, is read as UTC, as every time flux prints is.
    const at = Date.parse(/T/.test(text) && !/(Z|[+-]\d{2}:?\d{2})$/.test(text) ? `${text}Z` : text);
    if (Number.isFinite(at)) return at;
  }
  throw new UsageError(`--since takes a duration back from now (7d, 12h, 30m) or a date (2026-11-01, 2026-11-01T09:00Z), not \`${escapeControl(value)}\``);
}

function describeFilter(o: RunsListOptions): string {
  const parts = [
    ...(o.workflow !== undefined ? [`--workflow ${escapeControl(o.workflow)}`] : []),
    ...(o.status !== undefined ? [`--status ${escapeControl(o.status)}`] : []),
    ...(o.since !== undefined ? [`--since ${escapeControl(o.since)}`] : []),
  ];
  return parts.join(' ');
}
