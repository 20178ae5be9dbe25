/**
 * Event delivery: the daemon's loop that takes events from the store (emitted by `emit` steps,
 * or injected by `flux event` and `POST /events/NAME`) and delivers each exactly once, in one
 * store transaction (`Store.deliverEvent`): it starts a run of every workflow whose
 * `trigger.event` names it, and hands it to every run whose `wait_for` waits for that name.
 *
 * Why waiting runs get the event as a candidate instead of a verdict: a `wait_for`'s `match`
 * may read the run's own context (`item.booking_id == steps.book.output.id`), which only the
 * engine rebuilds, by replaying the run. So the daemon does not judge the match. It journals
 * the event in each waiting run under a key of its own (`<wait step>#event:<n>`, named by the
 * run when it parked) and wakes the run; the engine, replaying, checks `match` against each
 * delivered event in order, and either completes the wait with the first that holds or parks
 * again (the wait keeps its timeout). A broadcast costs a wake per waiting run on that name;
 * in return a match can say anything the step could.
 *
 * Exactly once, across kill -9: the event is marked delivered in the same transaction that
 * journals the candidates and enqueues the started runs, so a crash before it leaves the event
 * undelivered (its lease lapses and a daemon delivers it again, in full) and a crash after it
 * leaves everything done. An event that matches nothing is still marked delivered, and logged:
 * it is never retried forever.
 *
 * One gap the store's "wake only runs still waiting" rule leaves, and how it is closed: a run
 * woken for one event is not parked until its next attempt has looked at the event and parked
 * again; an event of the same name arriving in between would find no run waiting and be lost to
 * it. So while such a run (woken and not yet claimed, or running) has an open `wait_for` on a
 * name (its journal shows the wait begun and not ended), events of that name are held back:
 * kept leased, in order, and retried on the next pass, once it has parked.
 *
 * Chain depth: a run started by an event is one hop deeper than the run that emitted it
 * (outside events are depth 0). An event whose runs would pass `maxChainDepth` starts nothing;
 * it is logged with the chain of source runs, and counted. Waiting runs still get it: waking a
 * run starts no new work, so it cannot feed a loop.
 */
import type { Clock } from '../engine/clock.js';
import { newRunId } from '../engine/run-id.js';
import type { LoadedWorkflow } from '../engine/types.js';
import type { Delivery, EventRow, NewRun, Store } from '../store/store.js';
import { awaitedEvents, triggeredBy } from '../triggers/event.js';
import { parseSource } from '../workflow/source.js';
import { historyOf, type DeliveredEntry } from './runner.js';

/** The default `--max-chain-depth`: how many event hops a chain of runs may take. */
export const DEFAULT_MAX_CHAIN_DEPTH = 10;

/** Events claimed per store call. */
const BATCH = 100;

export interface EventDeliveryOptions {
  readonly store: Store;
  /** This daemon's name in event leases. */
  readonly owner: string;
  readonly clock: Clock;
  readonly leaseMs: number;
  /** The workflows this daemon serves now (read at each delivery): event-triggered ones start from these versions. */
  readonly workflows: () => readonly LoadedWorkflow[];
  readonly maxChainDepth: number;
  /** One line per thing that happened; `fields` name it for a structured (JSON) log. */
  readonly log: (line: string, fields?: Readonly<Record<string, string | number | boolean | null>>) => void;
  /** Called after a delivery started or woke runs, so the daemon claims them at once. */
  readonly onRunnable: () => void;
  /** Told of each event delivered here, with how many runs it woke and started (for /metrics). */
  readonly onDelivered?: (name: string, woken: number, started: number) => void;
}

/** What the loop has done since the daemon started. */
export interface EventStats {
  delivered: number;
  started: number;
  woken: number;
  /** Delivered to no workflow and no waiting run. */
  unmatched: number;
  /** Past the chain depth limit: started nothing. */
  pastChainDepth: number;
}

export interface EventDelivery {
  /** Delivers what is pending; called on each poll tick and whenever an event may have arrived. */
  tick(): Promise<void>;
  /**
   * A run's turn ended: events held back while a run resumed from a wait for them may go now.
   * Nothing is held most of the time, and then this costs no store call (new events are found
   * by the poll, or announced by `tick`).
   */
  afterTurn(): void;
  readonly stats: Readonly<EventStats>;
  /** Stops taking new passes; resolves once the current one ends. */
  stop(): Promise<void>;
}

/** Starts nothing by itself: the daemon calls `tick`. */
export function eventDelivery(o: EventDeliveryOptions): EventDelivery {
  const stats: EventStats = { delivered: 0, started: 0, woken: 0, unmatched: 0, pastChainDepth: 0 };
  /** Claimed and not yet delivered, in the order they were emitted (a Map keeps insertion order). */
  const pending = new Map<string, EventRow>();
  /** Events already logged as held back, so a long hold is one line, not one per pass. */
  const heldLogged = new Set<string>();
  /** Events whose delivery failed, logged once each while they are retried. */
  const failedLogged = new Set<string>();
  /** The event names each workflow version waits for, by version hash. */
  const awaitedByVersion = new Map<string, ReadonlySet<string>>();
  let current: Promise<void> | undefined;
  let again = false;
  let stopped = false;

  const awaitedBy = async (hash: string): Promise<ReadonlySet<string>> => {
    let names = awaitedByVersion.get(hash);
    if (!names) {
      const version = await o.store.getWorkflowVersion(hash);
      const parsed = version ? parseSource(`${version.name}.yaml`, version.text) : undefined;
      names = parsed?.ok ? awaitedEvents(parsed.source.value) : new Set<string>();
      awaitedByVersion.set(hash, names);
    }
    return names;
  };

  /**
   * Names (among `names`) that a run between two parks has an open wait_for on: it is running,
   * or it was woken (due, no longer parked on an event) and not yet claimed. Their events wait.
   */
  const openWaits = async (names: ReadonlySet<string>, now: number): Promise<Set<string>> => {
    const busy = new Set<string>();
    for (const run of await o.store.listRuns({ status: ['running', 'waiting'], limit: 1_000_000 })) {
      if (run.status === 'waiting' && (run.waitingFor !== null || run.wakeAt === null || run.wakeAt > now)) continue;
      const awaited = await awaitedBy(run.workflowVersion);
      if (![...names].some((n) => awaited.has(n))) continue;
      for (const step of historyOf(await o.store.journalFor(run.id)).values()) {
        if (step.status === 'waiting' && step.event !== undefined && names.has(step.event)) busy.add(step.event);
      }
    }
    return busy;
  };

  /** The source runs that led to an event, oldest first (bounded: a chain is at most the limit long). */
  const chainOf = async (event: EventRow): Promise<string[]> => {
    const chain: string[] = [];
    let id = event.sourceRunId;
    while (id !== null && chain.length <= o.maxChainDepth + 1) {
      chain.unshift(id);
      id = (await o.store.getRun(id))?.parentRunId ?? null;
    }
    return chain;
  };

  const decide = async (event: EventRow, now: number): Promise<Delivery> => {
    const triggered = triggeredBy(o.workflows(), event.name, event.data);
    for (const p of triggered.problems) o.log(`event ${event.name} (${event.id}): ${p}`, { kind: 'event.trigger_failed', event: event.name, event_id: event.id });
    let start: NewRun[] = triggered.start.map((w) => ({
      id: newRunId(now), workflow: w.name, workflowVersion: w.version, trigger: 'event', event: event.data, receivedAt: event.createdAt,
      ...(event.sourceRunId !== null ? { parentRunId: event.sourceRunId } : {}), chainDepth: event.chainDepth + 1,
    }));
    if (start.length > 0 && event.chainDepth + 1 > o.maxChainDepth) {
      stats.pastChainDepth++;
      const chain = await chainOf(event);
      o.log(`event ${event.name} (${event.id}) is past the chain depth limit (${o.maxChainDepth}): it starts no run of ${start.map((r) => r.workflow).join(', ')}; chain of runs: ${chain.join(' → ') || 'none'} (${stats.pastChainDepth} stopped so far)`, {
        kind: 'event.chain_too_deep', event: event.name, event_id: event.id, chain_depth: event.chainDepth, chain: chain.join(' '),
      });
      start = [];
    }
    const output = (): DeliveredEntry => ({ event_id: event.id, name: event.name, data: event.data });
    const wake = (await o.store.waitingOn(event.name)).flatMap((run) => (run.waitingFor ? [{ runId: run.id, step: run.waitingFor.step, output: output() }] : []));
    return { wake, start };
  };

  const deliver = async (event: EventRow): Promise<{ started: boolean; woken: boolean }> => {
    const now = o.clock.now();
    const delivery = await decide(event, now);
    const result = await o.store.deliverEvent(event.id, delivery, now);
    pending.delete(event.id);
    heldLogged.delete(event.id);
    if (!result.delivered) return { started: false, woken: false }; // another daemon delivered it first
    stats.delivered++;
    stats.started += result.started.length;
    stats.woken += result.woken.length;
    o.onDelivered?.(event.name, result.woken.length, result.started.length);
    const source = event.sourceRunId !== null ? ` from run ${event.sourceRunId}` : ' from outside';
    if (result.started.length === 0 && result.woken.length === 0) {
      stats.unmatched++;
      o.log(`event ${event.name} (${event.id})${source} delivered to nothing: no workflow is triggered by it and no run waits for it`, {
        kind: 'event.unmatched', event: event.name, event_id: event.id,
      });
    } else {
      const parts = [
        ...(result.started.length > 0 ? [`started ${result.started.join(', ')}`] : []),
        ...(result.woken.length > 0 ? [`handed to waiting ${result.woken.join(', ')} (their match is checked as they resume)`] : []),
      ];
      o.log(`event ${event.name} (${event.id})${source}: ${parts.join('; ')}`, {
        kind: 'event.delivered', event: event.name, event_id: event.id, started: result.started.join(' '), woken: result.woken.join(' '),
      });
    }
    return { started: result.started.length > 0, woken: result.woken.length > 0 };
  };

  const pass = async (): Promise<void> => {
    const claimed = await o.store.claimEvents(o.owner, BATCH, o.leaseMs, o.clock.now());
    for (const e of claimed) if (!pending.has(e.id)) pending.set(e.id, e);
    if (claimed.length === BATCH) again = true;
    if (pending.size === 0) return;
    const busy = await openWaits(new Set([...pending.values()].map((e) => e.name)), o.clock.now());
    let runnable = false;
    for (const event of [...pending.values()]) {
      if (stopped) break;
      if (busy.has(event.name)) {
        if (!heldLogged.has(event.id)) {
          heldLogged.add(event.id);
          o.log(`event ${event.name} (${event.id}) held until a run that is resuming from a wait for it has parked again`, { kind: 'event.held', event: event.name, event_id: event.id });
        }
        continue;
      }
      let woke: { started: boolean; woken: boolean };
      try {
        woke = await deliver(event);
      } catch (error) {
        // Kept pending and tried again on the next pass; later events of its name wait behind it.
        busy.add(event.name);
        if (!failedLogged.has(event.id)) {
          failedLogged.add(event.id);
          o.log(`event ${event.name} (${event.id}) could not be delivered: ${error instanceof Error ? error.message : String(error)}; it is tried again`, {
            kind: 'event.delivery_failed', event: event.name, event_id: event.id,
          });
        }
        continue;
      }
      failedLogged.delete(event.id);
      if (woke.started || woke.woken) runnable = true;
      // The runs it woke are between two parks now: later events of the name wait for them.
      if (woke.woken) busy.add(event.name);
    }
    if (runnable) o.onRunnable();
  };

  return {
    stats,
    tick() {
      if (stopped) return Promise.resolve();
      if (current) {
        again = true;
        return current;
      }
      current = (async () => {
        try {
          do {
            again = false;
            await pass();
          } while (again && !stopped);
        } catch (error) {
          o.log(`delivering events failed: ${error instanceof Error ? error.message : String(error)}; they are retried`, { kind: 'event.delivery_failed' });
        } finally {
          current = undefined;
        }
      })();
      return current;
    },
    afterTurn() {
      if (pending.size > 0) void this.tick();
    },
    async stop() {
      stopped = true;
      await current;
    },
  };
}
