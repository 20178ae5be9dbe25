/**
 * The runner: takes one run the store handed this daemon (to start, to wake, or to rescue from
 * a daemon that died) and drives the engine to its next stop, finished or waiting, keeping the
 * store in step: the run's lease is renewed while it runs, each completed step is journaled
 * before the next one starts, and the outcome is recorded. A rescued or woken run resumes by
 * replay: its journal comes back as the engine's history, and its run log goes on under the
 * same relative path in this daemon's log directory (a new part of the log when another daemon
 * wrote the earlier turns), so the parts of a run's log hold each step.finished and its
 * run.finished exactly once; every turn's first record names the daemon (turnFields).
 *
 * Events: an emit step's events are stored with its journal entry, in one transaction, so a
 * step that is journaled has emitted and a replayed one never emits again. Events the daemon
 * delivered to a waiting `wait_for` (journaled under `<step key>#event:<n>`, see events.ts) are
 * handed to the engine as candidates, which checks each against the step's `match`.
 *
 * A rescued run is resumed at most `resumeBudget` times: a run whose every attempt kills its
 * daemon (a step that exhausts memory, a connector that crashes the process) would otherwise be
 * rescued forever and never end. Past the budget the run is given up: failed, and escalated to
 * its owner by the engine, as any failure is, so no run stays `running` without someone told.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { ConnectorRuntime } from '../connectors/runtime.js';
import type { Clock } from '../engine/clock.js';
import { runWorkflow } from '../engine/run.js';
import type { Abandon, DeliveredEvent, EmittedEvent, JournaledDraw, JournaledStep, LoadedWorkflow, RunResult } from '../engine/types.js';
import { Masker } from '../secrets/masker.js';
import { FileJournal, runLogPath, type RunRecord } from '../store/run-log.js';
import type { ClaimedRun, FinalState, JournalEntry, NewEvent, RunRow, Store } from '../store/store.js';
import { asRecord, ownerOf } from '../workflow/model.js';
import { parseSource } from '../workflow/source.js';
import { ackOpener } from './ack-links.js';
import { deliveriesTo, deliveryKey, deliveryStepKey, isCompletionKey, waitingKey, waitingStepKey } from './journal-keys.js';

export interface RunnerDeps {
  readonly store: Store;
  /** This daemon's name in leases. */
  readonly owner: string;
  readonly leaseMs: number;
  readonly clock: Clock;
  readonly connectors: Readonly<Record<string, ConnectorRuntime>>;
  readonly logDir: string;
  /** Aborted when the daemon's stop grace period is over: running runs are handed back (see RunnerOutcome). */
  readonly shutdown?: AbortSignal;
  readonly secrets: Readonly<Record<string, string>>;
  readonly environment: Readonly<Record<string, string | undefined>>;
  /** Called once an emit step's events are stored, so the daemon delivers them at once. */
  readonly onEmitted?: () => void;
  /** How many times a run may be rescued from a daemon that died before it is given up (default 3). */
  readonly resumeBudget?: number;
  /** The signed link an approval step's request carries (see approvals/links.ts). */
  readonly approvalLink?: (runId: string, stepKey: string, expiresAt: number, approver?: string) => string;
  /** The signed link an escalation's acknowledgement is taken through; without it, escalations carry none. */
  readonly ackLink?: (runId: string, ackDueAt: number) => string;
}

/** How many times a run is rescued from a crashed daemon before it is given up, unless the daemon says. */
export const DEFAULT_RESUME_BUDGET = 3;

/** How a claimed run's turn ended: the engine's result, or `lost` when another daemon took the run over. */
/**
 * How a claimed run's turn ended: the engine's result; `lost` when another daemon took the run
 * over; `released` when the daemon stopped it at shutdown (it waits, due at once, for the next
 * daemon to resume it from the journal, without counting as a crash); `unrunnable`.
 */
export type RunnerOutcome =
  | { readonly kind: 'ran'; readonly result: RunResult }
  | { readonly kind: 'lost' }
  | { readonly kind: 'released'; readonly cancelled: boolean }
  | { readonly kind: 'unrunnable'; readonly reason: string };

/** Runs one claimed run until it finishes or waits. */
export async function runClaimed(claim: ClaimedRun, deps: RunnerDeps): Promise<RunnerOutcome> {
  const run = claim.run;
  const workflow = await workflowOf(run.workflowVersion, deps.store);
  if (!workflow.ok) {
    await deps.store.finishRun(run.id, deps.owner, 'failed', { message: workflow.reason }, deps.clock.now());
    return { kind: 'unrunnable', reason: workflow.reason };
  }
  const entries = await deps.store.journalFor(run.id);
  const history = historyOf(entries);
  const delivered = deliveredOf(entries);
  // Answers to approval steps: read after the journal, so an answer recorded in between is seen
  // now or wakes the run again (recordAnswer makes it due).
  const answers = await deps.store.approvalAnswers(run.id);
  const controller = new AbortController();
  let lost = false;
  // The daemon is stopping and its grace period is over: stop the run where it is, and hand
  // it back instead of ending it (its interrupted step runs again, same idempotency key).
  let released = false;
  const onShutdown = () => {
    released = true;
    controller.abort();
  };
  if (deps.shutdown?.aborted) onShutdown();
  deps.shutdown?.addEventListener('abort', onShutdown, { once: true });
  // Renewed well before it lapses; a lease that cannot be renewed means another daemon has the run.
  const renew = setInterval(() => {
    deps.store.renewLease(run.id, deps.owner, deps.leaseMs, deps.clock.now()).then((state) => {
      if (!state.held) lost = true;
      if (!state.held || state.cancelRequested) controller.abort();
    }, () => {});
  }, Math.max(50, Math.floor(deps.leaseMs / 3)));
  // A journal write that fails (the lease was taken over, or the store cannot be reached: a
  // connection cut, a database restarting) ends this turn without ending the run: nothing
  // further is logged here, and the run is left to its lease, which lapses unless renewed, so
  // that a daemon that can reach the store resumes it from the journal, the step whose entry
  // was not written run again with the same idempotency key. A store that fails every time
  // makes a run crash every time, and the resume budget ends it (failed and escalated).
  const handBackOnFailure = <T>(write: Promise<T>): Promise<T> => write.catch((error: unknown) => {
    lost = true;
    throw error;
  });
  const path = runLogPath(deps.logDir, workflow.value.name, run.id);
  const elsewhere = claim.reason === 'start' ? false : previousElsewhere(path, entries);
  const file = new FileJournal(path);
  const turn = turnFields(claim, deps.owner, elsewhere);
  // Once another daemon holds the run, it writes the run's log: this one must not add an end to
  // it; nor may a run handed back at shutdown, which the next daemon goes on with.
  const journal = { append: (record: RunRecord) => (lost || released ? undefined : file.append(turn(record))), close: () => file.close() };
  let result: RunResult;
  try {
    result = await runWorkflow({
      workflow: workflow.value, event: run.event, trigger: run.trigger, ...(run.scheduledFor !== null ? { scheduledFor: run.scheduledFor } : {}), receivedAt: run.receivedAt, secrets: deps.secrets, environment: deps.environment,
      connectors: deps.connectors, clock: deps.clock, journal, masker: new Masker(), runId: run.id, attempt: run.attempt,
      resume: claim.reason !== 'start', history, durableWaits: true, signal: controller.signal, deliver: delivered,
      approvals: { answers, ...(deps.approvalLink ? { link: (key: string, expiresAt: number, approver?: string) => deps.approvalLink!(run.id, key, expiresAt, approver) } : {}) },
      onStepCompleted: async (step, emits) => {
        const now = deps.clock.now();
        await handBackOnFailure(deps.store.recordStep(deps.owner, toEntry(run, step, now), emits.map((e, i) => toEvent(run, step, e, i, now))));
        if (emits.length > 0) deps.onEmitted?.();
      },
      draws: drawsOf(entries), onDraw: (d) => handBackOnFailure(deps.store.recordStep(deps.owner, drawEntry(run, d, deps.clock.now()))).then(() => undefined),
      ...abandonment(claim, deps.resumeBudget ?? DEFAULT_RESUME_BUDGET),
      ...(deps.ackLink ? { openAck: ackOpener(deps.store, deps.ackLink, workflow.value) } : {}),
    });
  } finally {
    clearInterval(renew);
    deps.shutdown?.removeEventListener('abort', onShutdown);
    await journal.close();
  }
  if (lost) return { kind: 'lost' };
  const now = deps.clock.now();
  if (released) {
    const state = await deps.store.setWaiting(run.id, deps.owner, now, null, now);
    return { kind: 'released', cancelled: state === 'cancelled' };
  }
  if (result.status === 'waiting' && result.waiting) {
    const w = result.waiting;
    const waitingFor = w.event !== undefined ? { event: w.event, step: nextDeliveryKey(entries, w.key) } : null;
    await deps.store.setWaiting(run.id, deps.owner, Date.parse(w.wake_at), waitingFor, now);
  } else {
    await deps.store.finishRun(run.id, deps.owner, result.status as FinalState, result.error ?? null, now);
  }
  return { kind: 'ran', result };
}

/**
 * Names the daemon and the attempt on the record that begins a turn (`run.started`, or
 * `run.resumed` with why), so the run log says which daemon ran each attempt. A resumed run's
 * log goes on in this daemon's own log directory, under the same `<workflow>/<run-id>.jsonl`:
 * when this daemon has not written the run before, that `run.resumed` begins a new part of
 * the log, which readers (`flux metrics`, `flux runs show`) join to the others by run id.
 */
export function turnFields(claim: ClaimedRun, daemon: string, elsewhere: boolean): (record: RunRecord) => RunRecord {
  return (record) => {
    if (record.type === 'run.started') return { ...record, daemon, attempt: claim.run.attempt };
    if (record.type === 'run.resumed') return { ...record, daemon, reason: claim.reason === 'rescue' ? 'rescue' : 'wake', previous_elsewhere: elsewhere };
    return record;
  };
}

/** How much of the end of a run's log is read to find its last record (a record is at most ~16 KiB of output plus its fields). */
const TAIL_BYTES = 64 * 1024;

/**
 * Whether the turn before this one wrote its records somewhere else than `path` (another
 * daemon's log directory): this daemon's part of the log is missing, or it ends before the
 * journal's last entry (each entry is written after its records, by the same daemon's clock),
 * so another daemon ran the run since. Readers (`flux metrics`) then know the run's log has
 * another part to join; when false, the run's log so far is all in this file. Errs towards
 * true (an entry journaled just before a crash, before its next record): a reader then only
 * holds the run a little longer. A turn that died before journaling anything is not seen.
 */
export function previousElsewhere(path: string, entries: readonly JournalEntry[]): boolean {
  const last = lastRecordAt(path);
  if (last === null) return true;
  let journaled = -Infinity;
  // Deliveries are journaled by the event service, not by a turn of the run.
  for (const e of entries) if (deliveryStepKey(e.key) === undefined && e.finishedAt > journaled) journaled = e.finishedAt;
  return journaled > last;
}

const RECORD_TS = /^\{"v":1,"type":"[a-z._]+","ts":"([^"]+)"/;

/** The time of the last record of a log file, or null when there is none (or no file). */
function lastRecordAt(path: string): number | null {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    const length = Math.min(size, TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    const text = buffer.toString('utf8');
    // Line by line from the end; only each line's head is looked at (records begin v, type, ts).
    for (let end = text.length; end > 0;) {
      const start = text.lastIndexOf('\n', end - 1) + 1;
      const m = RECORD_TS.exec(text.slice(start, Math.min(end, start + 100)));
      const ts = m ? Date.parse(m[1]!) : NaN;
      if (Number.isFinite(ts)) return ts;
      end = start - 1;
    }
    return null;
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Workflow versions already read and parsed, per store, by content hash. A version in a store
 * never changes (its hash is its text), so a daemon parses each once, not once per run: a
 * thousand schedules firing each second would otherwise spend their start time parsing YAML.
 * Bounded: cleared when full.
 */
const parsedVersions = new WeakMap<Store, Map<string, LoadedWorkflow>>();
const MAX_PARSED_VERSIONS = 5000;

/** A workflow version from the store, parsed: the one a run started with (a run never changes version mid-way). */
export async function workflowOf(hash: string, store: Store): Promise<{ ok: true; value: LoadedWorkflow } | { ok: false; reason: string }> {
  let versions = parsedVersions.get(store);
  if (!versions) parsedVersions.set(store, (versions = new Map()));
  const cached = versions.get(hash);
  if (cached) return { ok: true, value: cached };
  const parsed = await parseVersion(hash, store);
  if (parsed.ok) {
    if (versions.size >= MAX_PARSED_VERSIONS) versions.clear();
    versions.set(hash, parsed.value);
  }
  return parsed;
}

async function parseVersion(hash: string, store: Store): Promise<{ ok: true; value: LoadedWorkflow } | { ok: false; reason: string }> {
  const version = await store.getWorkflowVersion(hash);
  if (!version) return { ok: false, reason: `workflow version ${hash} is not in the store` };
  const parsed = parseSource(`${version.name}.yaml`, version.text);
  if (!parsed.ok) return { ok: false, reason: `workflow version ${hash} no longer parses` };
  const value = parsed.source.value;
  return {
    ok: true,
    value: { file: `${version.name}.yaml`, value, name: String(value.name), owner: ownerOf(value).name, version: version.hash, baseline: asRecord(value.baseline) ?? null },
  };
}

/** A completed (or waiting) step as the store journals it; the engine's entry travels whole as the output. */
export function toEntry(run: RunRow, step: JournaledStep, now: number): JournalEntry {
  return {
    runId: run.id, key: step.status === 'waiting' ? waitingKey(step.key) : step.key, kind: 'step', status: step.status, output: step,
    error: step.error !== undefined ? { message: step.error } : null, attempt: run.attempt, startedAt: step.started_at ?? now - step.duration_ms, finishedAt: now,
  };
}

/** The engine's history from the store's journal: a step's completion outweighs its waiting entry. */
export function historyOf(entries: readonly JournalEntry[]): Map<string, JournaledStep> {
  const history = new Map<string, JournaledStep>();
  const steps = entries.filter((e) => e.kind === 'step');
  for (const e of steps) {
    const waiting = waitingStepKey(e.key);
    if (waiting !== undefined) history.set(waiting, e.output as JournaledStep);
  }
  for (const e of steps) if (isCompletionKey(e.key)) history.set(e.key, e.output as JournaledStep);
  return history;
}

/**
 * An emitted event as the store keeps it. Its id is the run and the step key (and the event's
 * place in the step), so it names where it came from and can only ever be stored once.
 */
function toEvent(run: RunRow, step: JournaledStep, e: EmittedEvent, i: number, now: number): NewEvent {
  return {
    id: `${run.id}:${step.key}${i > 0 ? `:${i}` : ''}`, name: e.event, data: e.data, sourceRunId: run.id, chainDepth: run.chainDepth, createdAt: now,
  };
}

/** What the daemon journals for a delivered event (see events.ts), and what the engine is handed back. */
export interface DeliveredEntry {
  readonly event_id: string;
  readonly name: string;
  readonly data: unknown;
}

/** The events delivered to the run's wait_for steps, oldest first, as the engine's candidates. */
export function deliveredOf(entries: readonly JournalEntry[]): DeliveredEvent[] {
  const candidates: DeliveredEvent[] = [];
  for (const e of entries) {
    const step = deliveryStepKey(e.key);
    if (e.kind !== 'step' || step === undefined) continue;
    const output = e.output as Partial<DeliveredEntry> | null;
    if (output === null || typeof output !== 'object' || typeof output.name !== 'string') continue;
    candidates.push({ event: output.name, payload: output.data, step });
  }
  return candidates;
}

/** The journal key the next event delivered to the wait at `key` goes under. */
function nextDeliveryKey(entries: readonly JournalEntry[], key: string): string {
  return deliveryKey(key, deliveriesTo(key, entries.map((e) => e.key)));
}

/**
 * Whether a claimed run is given up instead of run: a rescue past the budget. `attempt` counts
 * starts (1, then +1 per rescue), so attempt N follows N - 1 crashed attempts. The first rescue
 * past the budget tells the owner; should that attempt crash as well (the escalation itself may
 * be what kills the daemon), the next only records the failure.
 */
export function abandonment(claim: ClaimedRun, budget: number): { abandon?: Abandon } {
  const crashed = claim.run.attempt - 1;
  if (claim.reason !== 'rescue' || crashed <= budget) return {};
  const reason = `abandoned after ${crashed} crashed attempt${crashed === 1 ? '' : 's'}: the daemon running it died each time (resume budget ${budget})`;
  return { abandon: { reason, escalate: crashed === budget + 1 } };
}

/** A draw (a value taken from the clock or randomness) as the store journals it. */
function drawEntry(run: RunRow, draw: JournaledDraw, now: number): JournalEntry {
  return { runId: run.id, key: draw.key, kind: draw.kind, status: 'recorded', output: draw.value, error: null, attempt: run.attempt, startedAt: now, finishedAt: now };
}

/** The draws earlier attempts journaled, by key, for the engine to read back. */
export function drawsOf(entries: readonly JournalEntry[]): Map<string, number> {
  const draws = new Map<string, number>();
  for (const e of entries) if ((e.kind === 'time' || e.kind === 'random') && typeof e.output === 'number') draws.set(e.key, e.output);
  return draws;
}
