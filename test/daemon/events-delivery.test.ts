// The delivery loop against a real SQLite store, step by step: an event is held while a run
// that waits for its name is between two parks (running, or woken and not yet claimed), so it
// cannot slip past that run, and is delivered to it once it has parked again; an event that
// matches nothing is marked delivered and counted; one past the chain depth limit starts
// nothing, is delivered all the same, and is counted.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SkippingClock } from '../../src/engine/clock.js';
import { eventDelivery, type EventDelivery } from '../../src/daemon/events.js';
import { toEntry } from '../../src/daemon/runner.js';
import type { LoadedWorkflow } from '../../src/engine/types.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { parseSource } from '../../src/workflow/source.js';

const T0 = Date.UTC(2026, 10, 24, 9, 0, 0);
const WAITER = `name: booking
owner: ops@example.com
trigger: manual
steps:
  - id: confirmation
    wait_for: { event: booking.confirmed, timeout: 2d }
`;
const PINGED = `name: pinged
owner: ops@example.com
trigger:
  event: { name: ping }
steps:
  - id: x
    set: { a: 1 }
`;

let store: SqliteStore;
let lines: string[];
const clock = new SkippingClock(() => T0);
beforeEach(async () => {
  store = await openSqliteStore({ path: join(mkdtempSync(join(tmpdir(), 'flux-delivery-')), 'flux.db'), now: () => T0 });
  lines = [];
});
afterEach(async () => {
  await store.close();
});

function loaded(text: string, version: string): LoadedWorkflow {
  const parsed = parseSource('w.yaml', text);
  if (!parsed.ok) throw new Error('does not parse');
  const value = parsed.source.value;
  return { file: 'w.yaml', value, name: String(value.name), owner: String(value.owner), version, baseline: null };
}

function delivery(workflows: LoadedWorkflow[] = [], maxChainDepth = 10): EventDelivery {
  return eventDelivery({ store, owner: 'daemon-a', clock, leaseMs: 60_000, workflows: () => workflows, maxChainDepth, log: (l) => lines.push(l), onRunnable: () => {} });
}

/** Claims the run and journals that its wait_for began, as the runner does before it parks. */
async function runUntilWaitBegins(id: string): Promise<void> {
  await store.putWorkflowVersion({ hash: 'sha256:waiter', name: 'booking', text: WAITER, createdAt: T0 });
  await store.enqueueRun({ id, workflow: 'booking', workflowVersion: 'sha256:waiter', trigger: 'manual', event: {}, receivedAt: T0 }, T0);
  const [claim] = await store.claimRuns('daemon-a', 1, 60_000, T0);
  await store.recordStep('daemon-a', toEntry(claim!.run, {
    key: 'confirmation', step: 'confirmation', path: 'confirmation', status: 'waiting', output: null, attempts: 1, duration_ms: 0, wake_at: T0 + 172_800_000,
    started_at: T0, event: 'booking.confirmed',
  }, T0));
}

const event = (id: string, name = 'booking.confirmed', chainDepth = 0) => store.appendEvent({ id, name, data: { n: id }, chainDepth, createdAt: T0 });
const delivered = async (id: string) => (await store.getEvent(id))?.deliveredAt !== null;

describe('the event delivery loop', () => {
  it('holds an event while a run waiting for its name is between parks, then delivers it to that run', async () => {
    await runUntilWaitBegins('R1');
    await event('E1');
    const loop = delivery();
    await loop.tick();
    expect(await delivered('E1')).toBe(false);
    expect(lines).toEqual(['event booking.confirmed (E1) held until a run that is resuming from a wait for it has parked again']);

    await store.setWaiting('R1', 'daemon-a', T0 + 172_800_000, { event: 'booking.confirmed', step: 'confirmation#event:0' }, T0);
    await loop.tick();
    expect(await delivered('E1')).toBe(true);
    expect((await store.journalFor('R1')).map((e) => [e.key, e.output])).toEqual([
      ['confirmation#waiting', expect.objectContaining({ status: 'waiting' })],
      ['confirmation#event:0', { event_id: 'E1', name: 'booking.confirmed', data: { n: 'E1' } }],
    ]);
    expect(await store.getRun('R1')).toMatchObject({ status: 'waiting', waitingFor: null, wakeAt: T0 });

    // Woken and not yet claimed: the next two wait, in order, for the run to look and park again.
    await event('E2');
    await event('E3');
    await loop.tick();
    expect([await delivered('E2'), await delivered('E3')]).toEqual([false, false]);
    const [claim] = await store.claimRuns('daemon-a', 1, 60_000, T0);
    expect(claim?.run.id).toBe('R1');
    await store.setWaiting('R1', 'daemon-a', T0 + 172_800_000, { event: 'booking.confirmed', step: 'confirmation#event:1' }, T0);
    await loop.tick();
    // E2 woke it again, so E3 waits for its next park.
    expect([await delivered('E2'), await delivered('E3')]).toEqual([true, false]);
    expect((await store.journalFor('R1')).map((e) => e.key)).toEqual(['confirmation#waiting', 'confirmation#event:0', 'confirmation#event:1']);
    expect(loop.stats).toMatchObject({ delivered: 2, woken: 2, unmatched: 0 });
  });

  it('marks an event that matches nothing delivered, logs it and counts it', async () => {
    await event('E9', 'nobody.listens');
    const loop = delivery([loaded(PINGED, 'sha256:pinged')]);
    await loop.tick();
    expect(await delivered('E9')).toBe(true);
    expect(lines).toEqual(['event nobody.listens (E9) from outside delivered to nothing: no workflow is triggered by it and no run waits for it']);
    expect(loop.stats).toMatchObject({ delivered: 1, unmatched: 1, started: 0 });
    await loop.tick();
    expect(lines).toHaveLength(1);
  });

  it('starts a triggered run one hop deeper, and nothing for an event past the chain depth limit', async () => {
    await store.putWorkflowVersion({ hash: 'sha256:pinged', name: 'pinged', text: PINGED, createdAt: T0 });
    const loop = delivery([loaded(PINGED, 'sha256:pinged')], 2);
    await event('P1', 'ping', 1);
    await event('P2', 'ping', 2);
    await loop.tick();
    expect([await delivered('P1'), await delivered('P2')]).toEqual([true, true]);
    const runs = await store.listRuns({});
    expect(runs.map((r) => [r.workflow, r.trigger, r.chainDepth, r.event])).toEqual([['pinged', 'event', 2, { n: 'P1' }]]);
    expect(loop.stats).toMatchObject({ delivered: 2, started: 1, pastChainDepth: 1 });
    expect(lines.filter((l) => l.includes('past the chain depth limit'))).toEqual([
      'event ping (P2) is past the chain depth limit (2): it starts no run of pinged; chain of runs: none (1 stopped so far)',
    ]);
  });

  it('retries an event whose delivery fails, logging it once, while other names go on', async () => {
    // The triggered workflow's version is not in the store (a daemon stores its versions at
    // start), so enqueueing its run fails inside the delivery transaction.
    const loop = delivery([loaded(PINGED, 'sha256:not-stored')]);
    await event('P1', 'ping');
    await event('P2', 'ping');
    await event('N1', 'nobody.listens');
    await loop.tick();
    await loop.tick();
    expect([await delivered('P1'), await delivered('P2'), await delivered('N1')]).toEqual([false, false, true]);
    expect(lines.filter((l) => l.includes('could not be delivered'))).toEqual([expect.stringMatching(/^event ping \(P1\) could not be delivered: .*; it is tried again$/)]);
    await store.putWorkflowVersion({ hash: 'sha256:not-stored', name: 'pinged', text: PINGED, createdAt: T0 });
    await loop.tick();
    expect([await delivered('P1'), await delivered('P2')]).toEqual([true, true]);
    expect((await store.listRuns({})).map((r) => (r.event as { n: string }).n).sort()).toEqual(['P1', 'P2']);
  });
});
