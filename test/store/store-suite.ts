// The behaviour every Store backend must have, run against each one (sqlite.test.ts today,
// PostgreSQL later). Time is passed in, never slept: leases expire by moving `now`.
import { afterEach, describe, expect, it } from 'vitest';
import { stepKey } from '../../src/engine/types.js';
import { LeaseLostError, PollLeaseLostError, type NewRun, type PolledKey, type Store } from '../../src/store/store.js';

/** Opens a fresh, empty store. */
export type OpenStore = () => Promise<Store>;
/** Opens a second connection to the database behind `store` (as a second daemon would). */
export type ConnectStore = (store: Store) => Promise<Store>;

const T0 = Date.parse('2026-11-24T09:00:00.000Z');
const VERSION = 'sha256:v1';
const LEASE = 30_000;

let serial = 0;
/** A run id that sorts by creation, like the ULIDs the daemon uses. */
function runId(): string {
  serial += 1;
  return `01RUN${String(serial).padStart(8, '0')}`;
}

function newRun(fields: Partial<NewRun> = {}): NewRun {
  return { id: runId(), workflow: 'lead-intake', workflowVersion: VERSION, trigger: 'webhook', event: { lead: 'ada@example.com' }, receivedAt: T0, ...fields };
}

/** What a backend's tests may rely on beyond the interface. */
export interface StoreTraits {
  /**
   * Commits happen on the caller's thread, after the call returns: another connection cannot
   * see a write before its promise settles. A store that commits elsewhere (a worker thread, a
   * database server) may commit before the caller next looks, so only "seen once resolved"
   * holds for it.
   */
  readonly commitsOnCallerThread: boolean;
}

/** Defines the shared store tests for one backend. */
export function describeStore(name: string, open: OpenStore, connect: ConnectStore, traits: StoreTraits): void {
  describe(`store: ${name}`, () => {
    const opened: Store[] = [];
    async function fresh(): Promise<Store> {
      const store = await open();
      opened.push(store);
      await store.putWorkflowVersion({ hash: VERSION, name: 'lead-intake', text: 'name: lead-intake\n', createdAt: T0 });
      await store.putWorkflowVersion({ hash: 'sha256:w2', name: 'other', text: 'name: other\n', createdAt: T0 });
      return store;
    }
    async function second(store: Store): Promise<Store> {
      const other = await connect(store);
      opened.push(other);
      return other;
    }
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });

    /** Enqueues a run and claims it for `owner`. */
    async function running(store: Store, owner = 'daemon-a', now = T0): Promise<string> {
      const { id } = await store.enqueueRun(newRun(), now);
      const claimed = await store.claimRuns(owner, 1, LEASE, now);
      expect(claimed.map((c) => c.run.id)).toEqual([id]);
      return id;
    }

    describe('runs', () => {
      it('keeps a queued run as it was enqueued', async () => {
        const store = await fresh();
        const run = newRun({ event: { nested: { list: [1, 'two', null] } }, parentRunId: 'PARENT', chainDepth: 2 });
        expect(await store.enqueueRun(run, T0 + 5)).toEqual({ id: run.id, created: true });
        const row = await store.getRun(run.id);
        expect(row).toMatchObject({
          id: run.id, workflow: 'lead-intake', workflowVersion: VERSION, status: 'queued', trigger: 'webhook', event: { nested: { list: [1, 'two', null] } },
          receivedAt: T0, scheduledFor: null, attempt: 0, leaseOwner: null, leaseUntil: null, wakeAt: null, waitingFor: null, cancelRequested: false,
          parentRunId: 'PARENT', chainDepth: 2, error: null, createdAt: T0 + 5, updatedAt: T0 + 5, finishedAt: null,
        });
        expect(await store.getRun('NOPE')).toBeUndefined();
      });

      it('refuses a run of a workflow version it does not have', async () => {
        const store = await fresh();
        await expect(store.enqueueRun(newRun({ workflowVersion: 'sha256:unknown' }), T0)).rejects.toThrow(/FOREIGN KEY/i);
      });

      it('a second enqueue with the same dedupe key returns the first run', async () => {
        const store = await fresh();
        const first = await store.enqueueRun(newRun({ key: { kind: 'dedupe', key: 'evt_1' } }), T0);
        const again = await store.enqueueRun(newRun({ key: { kind: 'dedupe', key: 'evt_1' } }), T0 + 1);
        expect(first.created).toBe(true);
        expect(again).toEqual({ id: first.id, created: false });
        const otherWorkflow = await store.enqueueRun(newRun({ workflow: 'other', workflowVersion: 'sha256:w2', key: { kind: 'dedupe', key: 'evt_1' } }), T0);
        expect(otherWorkflow.created).toBe(true);
        expect(await store.listRuns({ workflow: 'lead-intake' })).toHaveLength(1);
      });

      it('concurrent enqueues with one key, from two connections, create one run', async () => {
        const store = await fresh();
        const other = await second(store);
        const results = await Promise.all(
          Array.from({ length: 40 }, (_, i) => (i % 2 ? store : other).enqueueRun(newRun({ key: { kind: 'dedupe', key: 'same' } }), T0)),
        );
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(new Set(results.map((r) => r.id)).size).toBe(1);
        expect(await store.listRuns({})).toHaveLength(1);
      });

      it('a schedule fire happens once, is not started before its time, and is the last fire', async () => {
        const store = await fresh();
        const at = T0 + 60_000;
        expect(await store.lastFire('lead-intake')).toBeUndefined();
        const fire = (t: number) => store.enqueueRun(newRun({ trigger: 'schedule', scheduledFor: t, key: { kind: 'fire', key: new Date(t).toISOString() } }), T0);
        const [a, b] = await Promise.all([fire(at), fire(at)]);
        expect([a?.created, b?.created].sort()).toEqual([false, true]);
        expect(a?.id).toBe(b?.id);
        await fire(at - 60_000);
        expect(await store.lastFire('lead-intake')).toBe(at);
        expect(await store.lastFire('other')).toBeUndefined();
        expect((await store.claimRuns('d', 10, LEASE, at - 1)).map((c) => c.run.scheduledFor)).toEqual([at - 60_000]);
        expect((await store.claimRuns('d', 10, LEASE, at)).map((c) => c.run.id)).toEqual([a?.id]);
        await expect(store.enqueueRun(newRun({ key: { kind: 'fire', key: 'x' } }), T0)).rejects.toThrow(/scheduledFor/);
      });

      it('lists runs newest first, by workflow, status and time', async () => {
        const store = await fresh();
        const a = await store.enqueueRun(newRun(), T0);
        const b = await store.enqueueRun(newRun({ workflow: 'other', workflowVersion: 'sha256:w2' }), T0 + 1000);
        const c = await store.enqueueRun(newRun(), T0 + 2000);
        await store.claimRuns('d', 1, LEASE, T0 + 3000);
        expect((await store.listRuns({})).map((r) => r.id)).toEqual([c.id, b.id, a.id]);
        expect((await store.listRuns({ workflow: 'lead-intake' })).map((r) => r.id)).toEqual([c.id, a.id]);
        expect((await store.listRuns({ status: 'running' })).map((r) => r.id)).toEqual([a.id]);
        expect((await store.listRuns({ status: ['queued', 'running'], since: T0 + 1000 })).map((r) => r.id)).toEqual([c.id, b.id]);
        expect((await store.listRuns({ limit: 1 })).map((r) => r.id)).toEqual([c.id]);
      });

      it('keeps the first text of a workflow version', async () => {
        const store = await fresh();
        await store.putWorkflowVersion({ hash: VERSION, name: 'changed', text: 'changed', createdAt: T0 + 1 });
        expect(await store.getWorkflowVersion(VERSION)).toEqual({ hash: VERSION, name: 'lead-intake', text: 'name: lead-intake\n', createdAt: T0 });
        expect(await store.getWorkflowVersion('sha256:none')).toBeUndefined();
      });

      it('keeps the first value offered for a shared key', async () => {
        const store = await fresh();
        const [a, b] = await Promise.all([store.sharedKey('k', 'first', T0), store.sharedKey('k', 'second', T0)]);
        expect([a, b]).toEqual(['first', 'first']);
        expect(await store.sharedKey('k', 'third', T0 + 1)).toBe('first');
        expect(await store.sharedKey('other', 'x', T0)).toBe('x');
      });

      it('counts live runs by workflow and state, and never finished ones', async () => {
        const store = await fresh();
        expect(await store.countRuns()).toEqual([]);
        for (let i = 0; i < 4; i++) await store.enqueueRun(newRun(), T0);
        await store.enqueueRun(newRun({ workflow: 'other', workflowVersion: 'sha256:w2' }), T0);
        const [a, b, c] = (await store.claimRuns('daemon-a', 3, LEASE, T0)).map((x) => x.run.id);
        await store.setWaiting(a!, 'daemon-a', T0 + 60_000, null, T0);
        await store.finishRun(b!, 'daemon-a', 'succeeded', null, T0);
        expect(c).toBeDefined();
        expect(await store.countRuns()).toEqual([
          { workflow: 'lead-intake', status: 'queued', count: 1 },
          { workflow: 'lead-intake', status: 'running', count: 1 },
          { workflow: 'lead-intake', status: 'waiting', count: 1 },
          { workflow: 'other', status: 'queued', count: 1 },
        ]);
      });
    });

    describe('claims and leases', () => {
      it('claims queued runs in order, once, up to the limit', async () => {
        const store = await fresh();
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) ids.push((await store.enqueueRun(newRun(), T0)).id);
        const first = await store.claimRuns('daemon-a', 3, LEASE, T0);
        expect(first.map((c) => [c.run.id, c.reason])).toEqual(ids.slice(0, 3).map((id) => [id, 'start']));
        expect(first[0]?.run).toMatchObject({ status: 'running', attempt: 1, leaseOwner: 'daemon-a', leaseUntil: T0 + LEASE });
        expect((await store.claimRuns('daemon-b', 10, LEASE, T0)).map((c) => c.run.id)).toEqual(ids.slice(3));
        expect(await store.claimRuns('daemon-b', 10, LEASE, T0)).toEqual([]);
      });

      it('concurrent claimers on two connections never get the same run', async () => {
        const store = await fresh();
        const other = await second(store);
        const ids = await Promise.all(Array.from({ length: 60 }, () => store.enqueueRun(newRun(), T0)));
        const claims = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? store : other).claimRuns(`d${i}`, 3, LEASE, T0)));
        const claimed = claims.flat().map((c) => c.run.id);
        expect(claimed.sort()).toEqual(ids.map((r) => r.id).sort());
      });

      it('a run whose lease ran out is rescued as a new attempt, and its old runner is fenced off', async () => {
        const store = await fresh();
        const id = await running(store, 'daemon-a');
        expect(await store.claimRuns('daemon-b', 10, LEASE, T0 + LEASE - 1)).toEqual([]);
        const rescued = await store.claimRuns('daemon-b', 10, LEASE, T0 + LEASE + 1);
        expect(rescued.map((c) => [c.run.id, c.reason, c.run.attempt, c.run.leaseOwner])).toEqual([[id, 'rescue', 2, 'daemon-b']]);
        expect(await store.renewLease(id, 'daemon-a', LEASE, T0 + LEASE + 2)).toEqual({ held: false, cancelRequested: false });
        const step = { runId: id, key: 'greet', kind: 'step', status: 'succeeded', output: 1, error: null, attempt: 1, startedAt: T0, finishedAt: T0 } as const;
        await expect(store.recordStep('daemon-a', step)).rejects.toBeInstanceOf(LeaseLostError);
        await expect(store.finishRun(id, 'daemon-a', 'succeeded', null, T0 + LEASE + 2)).rejects.toBeInstanceOf(LeaseLostError);
        await expect(store.setWaiting(id, 'daemon-a', T0, null, T0 + LEASE + 2)).rejects.toBeInstanceOf(LeaseLostError);
        await store.finishRun(id, 'daemon-b', 'succeeded', null, T0 + LEASE + 3);
        expect(await store.getRun(id)).toMatchObject({ status: 'succeeded', leaseOwner: null, finishedAt: T0 + LEASE + 3 });
      });

      it('concurrent rescuers on two connections take each run of a dead runner once', async () => {
        const store = await fresh();
        const other = await second(store);
        await Promise.all(Array.from({ length: 30 }, () => store.enqueueRun(newRun(), T0)));
        const victims = (await store.claimRuns('dead-daemon', 30, LEASE, T0)).map((c) => c.run.id);
        const after = T0 + LEASE + 1;
        const claims = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? store : other).claimRuns(`d${i}`, 2, LEASE, after)));
        const rescued = claims.flat();
        expect(rescued.map((c) => c.run.id).sort()).toEqual([...victims].sort());
        expect(new Set(rescued.map((c) => `${c.reason}:${c.run.attempt}`))).toEqual(new Set(['rescue:2']));
      });

      it('a renewed lease keeps the run', async () => {
        const store = await fresh();
        const id = await running(store);
        expect(await store.renewLease(id, 'daemon-a', LEASE, T0 + LEASE - 1)).toEqual({ held: true, cancelRequested: false });
        expect(await store.claimRuns('daemon-b', 10, LEASE, T0 + LEASE + 1)).toEqual([]);
        expect((await store.getRun(id))?.leaseUntil).toBe(T0 + 2 * LEASE - 1);
      });

      it('a finished run is never claimed again and records its error', async () => {
        const store = await fresh();
        const id = await running(store);
        await store.finishRun(id, 'daemon-a', 'escalated', { message: 'HTTP 500', step: 'create', http_status: 500 }, T0 + 10);
        expect(await store.getRun(id)).toMatchObject({ status: 'escalated', error: { message: 'HTTP 500', step: 'create', http_status: 500 } });
        expect(await store.claimRuns('daemon-b', 10, LEASE, T0 + 10 * LEASE)).toEqual([]);
        await expect(store.finishRun(id, 'daemon-a', 'failed', null, T0 + 11)).rejects.toBeInstanceOf(LeaseLostError);
      });
    });

    describe('per-workflow limits', () => {
      const other = (fields: Partial<NewRun> = {}) => newRun({ workflow: 'other', workflowVersion: 'sha256:w2', ...fields });

      it('runs beyond a workflow limit stay queued; other workflows are claimed in creation order', async () => {
        const store = await fresh();
        const a = [];
        const b = [];
        for (let i = 0; i < 3; i++) {
          a.push((await store.enqueueRun(newRun(), T0)).id);
          b.push((await store.enqueueRun(other(), T0)).id);
        }
        const limits = new Map([['lead-intake', { max: 2 }]]);
        const first = await store.claimRuns('d', 10, LEASE, T0, limits);
        expect(first.map((c) => c.run.id)).toEqual([a[0], b[0], a[1], b[1], b[2]]);
        expect(first.every((c) => c.reason === 'start' && c.run.startedAt === T0)).toBe(true);
        expect(await store.claimRuns('d', 10, LEASE, T0, limits)).toEqual([]);
        await store.finishRun(a[0]!, 'd', 'succeeded', null, T0 + 1);
        expect((await store.claimRuns('d', 10, LEASE, T0 + 2, limits)).map((c) => c.run.id)).toEqual([a[2]]);
        // Without limits the same store hands out everything (the limit is the caller's).
        expect((await store.getRun(a[2]!))?.startedAt).toBe(T0 + 2);
      });

      it('the global limit and the workflow limit together: the oldest eligible runs first', async () => {
        const store = await fresh();
        const a = [];
        for (let i = 0; i < 3; i++) a.push((await store.enqueueRun(newRun(), T0)).id);
        const b = (await store.enqueueRun(other(), T0)).id;
        const claimed = await store.claimRuns('d', 2, LEASE, T0, new Map([['lead-intake', { max: 1 }]]));
        expect(claimed.map((c) => c.run.id)).toEqual([a[0], b]);
      });

      it('a waiting run frees its slot unless the limit counts waiting runs; waking then needs a free slot', async () => {
        const store = await fresh();
        const first = await running(store);
        await store.setWaiting(first, 'daemon-a', T0 + 1000, null, T0);
        const next = (await store.enqueueRun(newRun(), T0)).id;
        expect(await store.claimRuns('d', 10, LEASE, T0, new Map([['lead-intake', { max: 1, countWaiting: true }]]))).toEqual([]);
        expect((await store.claimRuns('d', 10, LEASE, T0, new Map([['lead-intake', { max: 1 }]]))).map((c) => c.run.id)).toEqual([next]);
        // The slot is taken by `next`: the due wake waits for it.
        expect(await store.claimRuns('d', 10, LEASE, T0 + 1000, new Map([['lead-intake', { max: 1 }]]))).toEqual([]);
        await store.finishRun(next, 'd', 'succeeded', null, T0 + 1001);
        const woken = await store.claimRuns('d', 10, LEASE, T0 + 1002, new Map([['lead-intake', { max: 1 }]]));
        expect(woken.map((c) => [c.run.id, c.reason])).toEqual([[first, 'wake']]);
      });

      it('a run rescued from a dead runner keeps its start time', async () => {
        const store = await fresh();
        const id = await running(store, 'dead', T0);
        const rescued = await store.claimRuns('d', 10, LEASE, T0 + LEASE + 1, new Map([['lead-intake', { max: 1 }]]));
        expect(rescued.map((c) => [c.run.id, c.reason, c.run.startedAt])).toEqual([[id, 'rescue', T0]]);
      });

      it('concurrent claimers on two connections never run more than the limit', async () => {
        const store = await fresh();
        const conn = await second(store);
        await Promise.all(Array.from({ length: 20 }, () => store.enqueueRun(newRun(), T0)));
        const limits = new Map([['lead-intake', { max: 3 }]]);
        const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? store : conn).claimRuns(`d${i}`, 5, LEASE, T0, limits)));
        expect(claims.flat()).toHaveLength(3);
        expect(await store.listRuns({ status: 'running' })).toHaveLength(3);
      });

      it('refuses a limit below 1', async () => {
        const store = await fresh();
        await expect(store.claimRuns('d', 1, LEASE, T0, new Map([['lead-intake', { max: 0 }]]))).rejects.toThrow(/lead-intake .* at least 1/);
      });
    });

    describe('schedule fires', () => {
      const fire = (t: number) => newRun({ trigger: 'schedule', scheduledFor: t, event: { scheduled_for: new Date(t).toISOString() }, key: { kind: 'fire', key: `lead-intake@${new Date(t).toISOString()}` } });
      const H = 3_600_000;

      it('overlap skip: a fire while a run is in progress is skipped, its key held, and later fires run again', async () => {
        const store = await fresh();
        const [one] = await store.enqueueFires([fire(T0)], 'skip', T0);
        expect(one).toMatchObject({ kind: 'created' });
        const id = (one as { id: string }).id;
        expect(await store.enqueueFires([fire(T0 + H)], 'skip', T0 + H)).toEqual([{ kind: 'skipped', blockedBy: id }]);
        // A restart that plans the skipped fire again finds its key taken.
        expect(await store.enqueueFires([fire(T0 + H)], 'allow', T0 + H)).toEqual([{ kind: 'duplicate', id }]);
        await store.claimRuns('d', 1, LEASE, T0 + H);
        await store.finishRun(id, 'd', 'succeeded', null, T0 + H + 1);
        expect((await store.enqueueFires([fire(T0 + 2 * H)], 'skip', T0 + 2 * H))[0]).toMatchObject({ kind: 'created' });
        expect(await store.listRuns({})).toHaveLength(2);
      });

      it('a batch is one decision: its fires do not skip each other, and a repeat is all duplicates', async () => {
        const store = await fresh();
        const batch = [fire(T0), fire(T0 + H), fire(T0 + 2 * H)];
        const out = await store.enqueueFires(batch, 'skip', T0 + 3 * H);
        expect(out.map((o) => o.kind)).toEqual(['created', 'created', 'created']);
        const again = await store.enqueueFires(batch, 'queue', T0 + 3 * H);
        expect(again).toEqual(out.map((o) => ({ kind: 'duplicate', id: (o as { id: string }).id })));
        expect(await store.lastFire('lead-intake')).toBe(T0 + 2 * H);
      });

      it('concurrent schedulers on two connections enqueue each fire once', async () => {
        const store = await fresh();
        const conn = await second(store);
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? store : conn).enqueueFires([fire(T0 + (i % 4) * H)], 'allow', T0)));
        expect(results.flat().filter((r) => r.kind === 'created')).toHaveLength(4);
        expect(await store.listRuns({})).toHaveLength(4);
      });

      it('refuses a fire without a key or time, or a batch of two workflows', async () => {
        const store = await fresh();
        await expect(store.enqueueFires([newRun()], 'allow', T0)).rejects.toThrow(/fire key and scheduledFor/);
        await expect(store.enqueueFires([fire(T0), { ...fire(T0), workflow: 'other' }], 'allow', T0)).rejects.toThrow(/one workflow/);
      });
    });

    describe('journal', () => {
      it('records a step once: a second record of its key returns the first', async () => {
        const store = await fresh();
        const id = await running(store);
        const entry = { runId: id, key: stepKey('email', [3]), kind: 'step', status: 'succeeded', output: { sent: true }, error: null, attempt: 1, startedAt: T0, finishedAt: T0 + 5 } as const;
        expect(await store.recordStep('daemon-a', entry)).toEqual({ entry, created: true });
        const again = await store.recordStep('daemon-a', { ...entry, output: { sent: 'twice' }, finishedAt: T0 + 9 });
        expect(again).toEqual({ entry, created: false });
        expect(await store.journalFor(id)).toEqual([entry]);
      });

      it("an emit step's events are appended with its entry, once however often it is recorded", async () => {
        const store = await fresh();
        const id = await running(store);
        const entry = { runId: id, key: 'announce', kind: 'step', status: 'succeeded', output: null, error: null, attempt: 1, startedAt: T0, finishedAt: T0 } as const;
        const event = { id: `${id}:announce`, name: 'lead.qualified', data: { lead: 7 }, sourceRunId: id, chainDepth: 1, createdAt: T0 };
        await store.recordStep('daemon-a', entry, [event]);
        await store.recordStep('daemon-a', entry, [{ ...event, id: `${id}:announce:replayed` }]);
        expect((await store.claimEvents('daemon-a', 10, LEASE, T0)).map((e) => [e.id, e.sourceRunId, e.data])).toEqual([[event.id, id, { lead: 7 }]]);
      });

      it('keeps entries in write order, outputs whole, failures and draws', async () => {
        const store = await fresh();
        const id = await running(store);
        const big = { text: 'x'.repeat(200_000), list: Array.from({ length: 1000 }, (_, i) => i) };
        const entries = [
          { runId: id, key: 'fetch', kind: 'step', status: 'succeeded', output: big, error: null, attempt: 1, startedAt: T0, finishedAt: T0 + 1 },
          { runId: id, key: 'random:0', kind: 'random', status: 'recorded', output: 0.25, error: null, attempt: 1, startedAt: T0 + 1, finishedAt: T0 + 1 },
          { runId: id, key: 'post', kind: 'step', status: 'failed', output: null, error: { message: 'HTTP 503', http_status: 503 }, attempt: 1, startedAt: T0 + 2, finishedAt: T0 + 3 },
          { runId: id, key: 'a-first', kind: 'time', status: 'recorded', output: T0 + 4, error: null, attempt: 1, startedAt: T0 + 4, finishedAt: T0 + 4 },
        ] as const;
        await Promise.all(entries.map((e) => store.recordStep('daemon-a', e)));
        expect(await store.journalFor(id)).toEqual(entries);
        expect(await store.journalFor('OTHER')).toEqual([]);
      });
    });

    describe('waits', () => {
      it('a waiting run is claimed again when its wake time comes, as the same attempt', async () => {
        const store = await fresh();
        const id = await running(store);
        expect(await store.setWaiting(id, 'daemon-a', T0 + 3_600_000, null, T0 + 1)).toBe('waiting');
        expect(await store.getRun(id)).toMatchObject({ status: 'waiting', wakeAt: T0 + 3_600_000, leaseOwner: null, leaseUntil: null });
        expect(await store.claimRuns('daemon-b', 10, LEASE, T0 + 3_599_999)).toEqual([]);
        const woken = await store.claimRuns('daemon-b', 10, LEASE, T0 + 3_600_000);
        expect(woken.map((c) => [c.run.id, c.reason, c.run.attempt, c.run.status, c.run.wakeAt])).toEqual([[id, 'wake', 1, 'running', null]]);
      });

      it('a wake time far in the future stays in the future', async () => {
        const store = await fresh();
        const id = await running(store);
        await store.setWaiting(id, 'daemon-a', 8.64e15, null, T0);
        expect(await store.claimRuns('daemon-b', 10, LEASE, T0 + 1)).toEqual([]);
      });

      it('a run waiting for an event without a timeout is not woken by time', async () => {
        const store = await fresh();
        const id = await running(store);
        const waitingFor = { event: 'payment.received', step: 'await-payment', match: 'event.invoice == "42"' };
        await store.setWaiting(id, 'daemon-a', null, waitingFor, T0);
        expect(await store.claimRuns('daemon-b', 10, LEASE, T0 + 365 * 86_400_000)).toEqual([]);
        expect((await store.waitingOn('payment.received')).map((r) => [r.id, r.waitingFor])).toEqual([[id, waitingFor]]);
        expect(await store.waitingOn('other')).toEqual([]);
      });

      it('refuses a wait for nothing, which nothing would ever end', async () => {
        const store = await fresh();
        const id = await running(store);
        await expect(store.setWaiting(id, 'daemon-a', null, null, T0)).rejects.toThrow(/cannot wait for nothing/);
        expect((await store.getRun(id))?.status).toBe('running');
      });
    });

    describe('cancel', () => {
      it('cancels queued and waiting runs at once, and flags a running one', async () => {
        const store = await fresh();
        const waiting = await running(store);
        await store.setWaiting(waiting, 'daemon-a', T0 + 1000, null, T0);
        const busy = await running(store);
        const queued = (await store.enqueueRun(newRun(), T0)).id;
        expect(await store.cancelRun(queued, T0 + 1)).toBe('cancelled');
        expect(await store.cancelRun(waiting, T0 + 1)).toBe('cancelled');
        expect(await store.cancelRun(busy, T0 + 1)).toBe('requested');
        expect(await store.getRun(queued)).toMatchObject({ status: 'cancelled', finishedAt: T0 + 1, error: { message: 'the run was cancelled' } });
        expect(await store.getRun(waiting)).toMatchObject({ status: 'cancelled', wakeAt: null });
        expect(await store.getRun(busy)).toMatchObject({ status: 'running', cancelRequested: true });
        expect(await store.claimRuns('daemon-b', 10, LEASE, T0 + 5000)).toEqual([]);
        expect(await store.renewLease(busy, 'daemon-a', LEASE, T0 + 2)).toEqual({ held: true, cancelRequested: true });
        await store.finishRun(busy, 'daemon-a', 'cancelled', { message: 'the run was cancelled' }, T0 + 3);
        expect(await store.cancelRun(busy, T0 + 4)).toBe('finished');
        expect(await store.cancelRun('NOPE', T0 + 4)).toBe('not-found');
      });

      it('a cancel asked while running takes effect when the run would wait', async () => {
        const store = await fresh();
        const id = await running(store);
        await store.cancelRun(id, T0 + 1);
        expect(await store.setWaiting(id, 'daemon-a', T0 + 1000, { event: 'e', step: 's' }, T0 + 2)).toBe('cancelled');
        expect(await store.getRun(id)).toMatchObject({ status: 'cancelled', wakeAt: null, waitingFor: null, finishedAt: T0 + 2 });
      });

      it('the run of a dead runner whose cancel was asked is cancelled, not rescued', async () => {
        const store = await fresh();
        const id = await running(store);
        await store.cancelRun(id, T0 + 1);
        expect(await store.claimRuns('daemon-b', 10, LEASE, T0 + LEASE + 1)).toEqual([]);
        expect(await store.getRun(id)).toMatchObject({ status: 'cancelled', leaseOwner: null });
      });
    });

    describe('retry', () => {
      /** A run that ran `steps` (recorded in order) and then ended `status`. */
      async function ended(store: Store, status: 'failed' | 'escalated' | 'succeeded' | 'cancelled', steps: readonly string[] = []): Promise<string> {
        const id = await running(store);
        for (const [i, key] of steps.entries()) {
          await store.recordStep('daemon-a', { runId: id, key, kind: 'step', status: 'succeeded', output: { step: key, n: i }, error: null, attempt: 1, startedAt: T0 + i, finishedAt: T0 + i + 1 });
        }
        await store.finishRun(id, 'daemon-a', status, status === 'succeeded' ? null : { message: 'HTTP 500', step: 'charge' }, T0 + 50);
        return id;
      }

      it('a failed run is retried as a new queued run of the same version and event, starting with its journal', async () => {
        const store = await fresh();
        await ended(store, 'failed', ['another-run']);
        const failed = await ended(store, 'failed', ['lookup', 'reserve']);
        expect(await store.retryRun(failed, 'RETRY1', T0 + 100)).toEqual({ outcome: 'created', id: 'RETRY1' });
        const original = await store.getRun(failed);
        expect(await store.getRun('RETRY1')).toMatchObject({
          id: 'RETRY1', workflow: original!.workflow, workflowVersion: original!.workflowVersion, trigger: original!.trigger, event: original!.event,
          receivedAt: original!.receivedAt, status: 'queued', attempt: 0, retryOf: failed, createdAt: T0 + 100, finishedAt: null, error: null,
        });
        expect((await store.journalFor('RETRY1')).map((e) => ({ ...e, runId: failed }))).toEqual(await store.journalFor(failed));
        expect((await store.journalFor('RETRY1')).map((e) => e.key)).toEqual(['lookup', 'reserve']);
        // The original keeps its end; the retry is claimed like any queued run.
        expect(await store.getRun(failed)).toEqual(original);
        expect(original?.retryOf).toBeNull();
        const claimed = await store.claimRuns('daemon-b', 10, LEASE, T0 + 101);
        expect(claimed.map((c) => [c.run.id, c.reason, c.run.attempt])).toEqual([['RETRY1', 'start', 1]]);
        expect((await store.listRuns({ retryOf: failed })).map((r) => r.id)).toEqual(['RETRY1']);
        expect(await store.listRuns({ retryOf: 'RETRY1' })).toEqual([]);
      });

      it('an escalated run is retried too; a run is retried once, however many ask', async () => {
        const store = await fresh();
        const other = await second(store);
        const escalated = await ended(store, 'escalated', ['lookup']);
        const [a, b] = await Promise.all([store.retryRun(escalated, 'RETRY-A', T0 + 100), other.retryRun(escalated, 'RETRY-B', T0 + 100)]);
        const created = [a, b].filter((r) => r.outcome === 'created');
        expect(created).toHaveLength(1);
        const id = (created[0] as { id: string }).id;
        expect([a, b].find((r) => r.outcome !== 'created')).toEqual({ outcome: 'exists', id });
        expect(await store.retryRun(escalated, 'RETRY-C', T0 + 200)).toEqual({ outcome: 'exists', id });
        expect(await store.getRun('RETRY-C')).toBeUndefined();
        expect(await store.journalFor(id)).toHaveLength(1);
      });

      it('refuses a run that did not fail, and says why', async () => {
        const store = await fresh();
        const succeeded = await ended(store, 'succeeded', ['lookup']);
        const cancelled = (await store.enqueueRun(newRun(), T0)).id;
        await store.cancelRun(cancelled, T0 + 1);
        const queued = (await store.enqueueRun(newRun(), T0 + 2)).id;
        expect(await store.retryRun(succeeded, 'R-S', T0 + 100)).toEqual({ outcome: 'not-retryable', status: 'succeeded' });
        expect(await store.retryRun(cancelled, 'R-C', T0 + 100)).toEqual({ outcome: 'not-retryable', status: 'cancelled' });
        expect(await store.retryRun(queued, 'R-Q', T0 + 100)).toEqual({ outcome: 'not-retryable', status: 'queued' });
        expect(await store.retryRun('NOPE', 'R-N', T0 + 100)).toEqual({ outcome: 'not-found' });
        for (const id of ['R-S', 'R-C', 'R-Q', 'R-N']) expect(await store.getRun(id)).toBeUndefined();
      });

      it('a failed retry can be retried in turn, and each retry names the run it retries', async () => {
        const store = await fresh();
        const first = await ended(store, 'failed', ['lookup']);
        await store.retryRun(first, 'RETRY1', T0 + 100);
        await store.claimRuns('daemon-a', 1, LEASE, T0 + 100);
        await store.recordStep('daemon-a', { runId: 'RETRY1', key: 'reserve', kind: 'step', status: 'succeeded', output: 2, error: null, attempt: 1, startedAt: T0 + 101, finishedAt: T0 + 102 });
        await store.finishRun('RETRY1', 'daemon-a', 'failed', { message: 'HTTP 502', step: 'charge' }, T0 + 103);
        expect(await store.retryRun('RETRY1', 'RETRY2', T0 + 200)).toEqual({ outcome: 'created', id: 'RETRY2' });
        expect(await store.getRun('RETRY2')).toMatchObject({ retryOf: 'RETRY1', status: 'queued' });
        expect((await store.journalFor('RETRY2')).map((e) => e.key)).toEqual(['lookup', 'reserve']);
      });
    });

    describe('events', () => {
      it('an event is leased to one daemon at a time until it is delivered', async () => {
        const store = await fresh();
        const other = await second(store);
        await store.appendEvent({ id: 'E1', name: 'lead.qualified', data: { lead: 1 }, sourceRunId: 'R0', chainDepth: 1, createdAt: T0 });
        await store.appendEvent({ id: 'E1', name: 'lead.qualified', data: { lead: 'again' }, createdAt: T0 + 1 });
        const [a, b] = await Promise.all([store.claimEvents('daemon-a', 10, LEASE, T0), other.claimEvents('daemon-b', 10, LEASE, T0)]);
        expect([...(a ?? []), ...(b ?? [])]).toEqual([{ id: 'E1', name: 'lead.qualified', data: { lead: 1 }, sourceRunId: 'R0', chainDepth: 1, createdAt: T0, deliveredAt: null }]);
        expect(await store.claimEvents('daemon-b', 10, LEASE, T0 + LEASE - 1)).toEqual([]);
        expect((await store.claimEvents('daemon-b', 10, LEASE, T0 + LEASE + 1)).map((e) => e.id)).toEqual(['E1']);
        await store.deliverEvent('E1', { wake: [], start: [] }, T0 + LEASE + 2);
        expect(await store.claimEvents('daemon-c', 10, LEASE, T0 + 10 * LEASE)).toEqual([]);
        expect((await store.getEvent('E1'))?.deliveredAt).toBe(T0 + LEASE + 2);
      });

      it('delivers an event once: wakes the waiting run with the event as its step output and starts triggered runs', async () => {
        const store = await fresh();
        const other = await second(store);
        const waiter = await running(store);
        await store.setWaiting(waiter, 'daemon-a', T0 + 3_600_000, { event: 'payment.received', step: 'await-payment' }, T0);
        await store.appendEvent({ id: 'E2', name: 'payment.received', data: { invoice: 42 }, createdAt: T0 + 10 });
        const output = { timed_out: false, event: { invoice: 42 } };
        const delivery = () => ({
          wake: [{ runId: waiter, step: 'await-payment', output }],
          start: [newRun({ workflow: 'other', workflowVersion: 'sha256:w2', trigger: 'event', event: { invoice: 42 }, parentRunId: waiter, chainDepth: 1 })],
        });
        const [first, again] = await Promise.all([store.deliverEvent('E2', delivery(), T0 + 20), other.deliverEvent('E2', delivery(), T0 + 20)]);
        const results = [first, again].sort((x, y) => Number(y?.delivered) - Number(x?.delivered));
        expect(results[0]).toMatchObject({ delivered: true, woken: [waiter] });
        expect(results[0]?.started).toHaveLength(1);
        expect(results[1]).toEqual({ delivered: false, woken: [], started: [] });
        expect(await store.waitingOn('payment.received')).toEqual([]);
        expect(await store.listRuns({ workflow: 'other' })).toHaveLength(1);
        expect(await store.journalFor(waiter)).toMatchObject([{ key: 'await-payment', kind: 'step', status: 'succeeded', output }]);
        const claimed = await store.claimRuns('daemon-b', 10, LEASE, T0 + 21);
        expect(claimed.map((c) => [c.run.id, c.reason])).toEqual([[waiter, 'wake'], [results[0]?.started[0], 'start']]);
      });

      it('an event does not wake a run that timed out, was cancelled or waits at another step', async () => {
        const store = await fresh();
        const timedOut = await running(store);
        await store.setWaiting(timedOut, 'daemon-a', T0 + 1000, { event: 'ping', step: 'wait' }, T0);
        await store.claimRuns('daemon-a', 1, LEASE, T0 + 1000);
        const cancelled = await running(store);
        await store.setWaiting(cancelled, 'daemon-a', null, { event: 'ping', step: 'wait' }, T0);
        await store.cancelRun(cancelled, T0 + 1);
        const elsewhere = await running(store);
        await store.setWaiting(elsewhere, 'daemon-a', null, { event: 'ping', step: 'later' }, T0);
        await store.appendEvent({ id: 'E3', name: 'ping', data: {}, createdAt: T0 + 2 });
        const wake = [timedOut, cancelled, elsewhere].map((runId) => ({ runId, step: 'wait', output: {} }));
        expect(await store.deliverEvent('E3', { wake, start: [] }, T0 + 3000)).toEqual({ delivered: true, woken: [], started: [] });
        for (const id of [timedOut, cancelled, elsewhere]) expect(await store.journalFor(id)).toEqual([]);
      });
    });

    describe('group commit', () => {
      it('a write resolves only once it is committed: another connection sees it then', async () => {
        const store = await fresh();
        const other = await second(store);
        const run = newRun();
        const pending = store.enqueueRun(run, T0);
        if (traits.commitsOnCallerThread) expect(await other.getRun(run.id)).toBeUndefined();
        await pending;
        expect((await other.getRun(run.id))?.status).toBe('queued');
      });

      it('a write that fails does not fail the others committed with it', async () => {
        const store = await fresh();
        const id = await running(store);
        const results = await Promise.allSettled([
          store.enqueueRun(newRun(), T0),
          store.finishRun(id, 'not-the-owner', 'succeeded', null, T0),
          store.enqueueRun(newRun({ workflowVersion: 'sha256:unknown' }), T0),
          store.enqueueRun(newRun(), T0),
        ]);
        expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
        expect(await store.listRuns({ status: 'queued' })).toHaveLength(2);
      });
    });

    describe('approval answers', () => {
      const HOUR = 3_600_000;
      /** A run waiting at approval step `approve`, its request journaled (quorum 2), expiring in an hour. */
      async function asking(store: Store, expiresAt = T0 + HOUR, quorum = 2): Promise<string> {
        const id = await running(store);
        const entry = (key: string, output: unknown) => ({ runId: id, key, kind: 'step' as const, status: 'succeeded', output, error: null, attempt: 1, startedAt: T0, finishedAt: T0 });
        await store.recordStep('daemon-a', entry('approve#request', { key: 'approve#request', output: { expires_at: expiresAt, quorum } }));
        await store.setWaiting(id, 'daemon-a', expiresAt, null, T0);
        return id;
      }
      const answer = (runId: string, approver: string, choice = 'approve', at = T0 + 1000) => ({
        runId, step: 'approve', approver, choice, inputs: { discount: 10 }, answeredAt: at, via: 'page' as const, from: '127.0.0.1',
      });

      it('records an answer once per person, and makes the waiting run due at once', async () => {
        const store = await fresh();
        const id = await asking(store);
        expect(await store.recordAnswer(answer(id, 'maria@example.com'), 'approve#request', T0 + 1000)).toBe('recorded');
        expect(await store.recordAnswer(answer(id, 'maria@example.com', 'reject'), 'approve#request', T0 + 2000)).toBe('duplicate');
        expect(await store.recordAnswer(answer(id, 'tom@example.com', 'reject'), 'approve#request', T0 + 2000)).toBe('recorded');
        expect((await store.approvalAnswers(id)).map((a) => [a.approver, a.choice, a.inputs, a.via, a.from])).toEqual([
          ['maria@example.com', 'approve', { discount: 10 }, 'page', '127.0.0.1'], ['tom@example.com', 'reject', { discount: 10 }, 'page', '127.0.0.1'],
        ]);
        expect((await store.getRun(id))?.wakeAt).toBe(T0 + 1000);
        expect((await store.claimRuns('daemon-b', 10, LEASE, T0 + 2000)).map((c) => [c.run.id, c.reason])).toEqual([[id, 'wake']]);
      });

      it('refuses answers once the step is closed: expired, completed, or the run ended; and names a missing run', async () => {
        const store = await fresh();
        const expired = await asking(store, T0 + 500);
        expect(await store.recordAnswer(answer(expired, 'maria@example.com'), 'approve#request', T0 + 500)).toBe('closed');
        const noRequest = await running(store);
        expect(await store.recordAnswer(answer(noRequest, 'maria@example.com'), 'approve#request', T0)).toBe('closed');
        const decided = await asking(store);
        await store.claimRuns('daemon-a', 10, LEASE, T0 + HOUR);
        await store.recordStep('daemon-a', { runId: decided, key: 'approve', kind: 'step', status: 'succeeded', output: {}, error: null, attempt: 1, startedAt: T0, finishedAt: T0 });
        expect(await store.recordAnswer(answer(decided, 'maria@example.com'), 'approve#request', T0 + 1000)).toBe('closed');
        const ended = await asking(store);
        await store.cancelRun(ended, T0 + 1);
        expect(await store.recordAnswer(answer(ended, 'maria@example.com'), 'approve#request', T0 + 1000)).toBe('closed');
        expect(await store.recordAnswer(answer('01NOSUCHRUN', 'maria@example.com'), 'approve#request', T0)).toBe('not-found');
        for (const id of [expired, noRequest, decided, ended]) expect(await store.approvalAnswers(id)).toEqual([]);
      });

      it('refuses answers once those recorded reach the quorum, before the run has woken to see it', async () => {
        const store = await fresh();
        const id = await asking(store, T0 + HOUR, 1);
        expect(await store.recordAnswer(answer(id, 'maria@example.com'), 'approve#request', T0 + 1000)).toBe('recorded');
        expect(await store.recordAnswer(answer(id, 'tom@example.com', 'reject'), 'approve#request', T0 + 1001)).toBe('closed');
        const two = await asking(store);
        expect(await store.recordAnswer(answer(two, 'maria@example.com', 'approve'), 'approve#request', T0 + 1000)).toBe('recorded');
        expect(await store.recordAnswer(answer(two, 'tom@example.com', 'reject'), 'approve#request', T0 + 1000)).toBe('recorded');
        expect(await store.recordAnswer(answer(two, 'ann@example.com', 'approve'), 'approve#request', T0 + 1000)).toBe('recorded');
        expect(await store.recordAnswer(answer(two, 'bob@example.com', 'reject'), 'approve#request', T0 + 1000)).toBe('closed');
      });

      it('two connections answering for the same person at once record one answer', async () => {
        const store = await fresh();
        const other = await second(store);
        const id = await asking(store);
        const outcomes = await Promise.all([
          store.recordAnswer(answer(id, 'maria@example.com', 'approve'), 'approve#request', T0 + 1000),
          other.recordAnswer(answer(id, 'maria@example.com', 'reject'), 'approve#request', T0 + 1000),
        ]);
        expect(outcomes.sort()).toEqual(['duplicate', 'recorded']);
        expect(await store.approvalAnswers(id)).toHaveLength(1);
      });

      it('an answer recorded while the run runs keeps it due when it parks later', async () => {
        const store = await fresh();
        const id = await asking(store);
        await store.claimRuns('daemon-a', 10, LEASE, T0 + HOUR); // woken at its timeout: running
        expect(await store.recordAnswer(answer(id, 'maria@example.com'), 'approve#request', T0 + HOUR - 1)).toBe('recorded');
        await store.setWaiting(id, 'daemon-a', T0 + 10 * HOUR, null, T0 + HOUR);
        expect((await store.getRun(id))?.wakeAt).toBe(T0 + HOUR - 1);
      });
    });

    describe('poll triggers', () => {
      const MIN = 60_000;
      const item = (key: string, run = true): PolledKey => ({ key, run: run ? newRun({ trigger: 'poll', event: { id: key } }) : null });

      it('claims a poll once when due, and not again until its next poll or a lapsed lease', async () => {
        const store = await fresh();
        const other = await second(store);
        const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? store : other).claimPoll('lead-intake', `d${i}`, LEASE, T0)));
        expect(claims.filter((c) => c.claimed)).toHaveLength(1);
        const won = claims.findIndex((c) => c.claimed);
        expect(claims[won]).toMatchObject({ claimed: true, state: { cursor: null, polled: false, failures: 0, seen: 0 } });
        expect(await store.claimPoll('lead-intake', 'late', LEASE, T0 + 1)).toEqual({ claimed: false, retryAt: T0 + LEASE });
        // The holder died: after its lease another daemon polls.
        expect((await store.claimPoll('lead-intake', 'late', LEASE, T0 + LEASE + 1)).claimed).toBe(true);
        await expect(store.completePoll('lead-intake', `d${won}`, [item('a')], null, T0 + MIN, T0 + LEASE + 2)).rejects.toBeInstanceOf(PollLeaseLostError);
        expect(await store.listRuns({})).toHaveLength(0);
        expect(await store.completePoll('lead-intake', 'late', [], 'c1', T0 + 5 * MIN, T0 + LEASE + 2)).toEqual([]);
        expect(await store.claimPoll('lead-intake', 'late', LEASE, T0 + 4 * MIN)).toEqual({ claimed: false, retryAt: T0 + 5 * MIN });
        expect(await store.claimPoll('lead-intake', 'late', LEASE, T0 + 5 * MIN)).toMatchObject({ claimed: true, state: { cursor: 'c1', polled: true } });
      });

      it('marks new keys seen and starts their runs in one write; a key seen before starts nothing', async () => {
        const store = await fresh();
        await store.claimPoll('lead-intake', 'd', LEASE, T0);
        // The baseline: seen, no runs.
        expect(await store.completePoll('lead-intake', 'd', [item('a', false), item('b', false)], { at: 1 }, T0 + MIN, T0)).toEqual([]);
        await store.claimPoll('lead-intake', 'd', LEASE, T0 + MIN);
        const fresh2 = [item('b'), item('c'), item('d')];
        const started = await store.completePoll('lead-intake', 'd', fresh2, { at: 2 }, T0 + 2 * MIN, T0 + MIN);
        expect(started).toEqual([fresh2[1]!.run!.id, fresh2[2]!.run!.id]);
        const runs = await store.listRuns({});
        expect(runs.map((r) => r.event).sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)))).toEqual([{ id: 'c' }, { id: 'd' }]);
        expect(runs.every((r) => r.trigger === 'poll' && r.status === 'queued')).toBe(true);
        expect(await store.pollState('lead-intake')).toMatchObject({ cursor: { at: 2 }, polled: true, seen: 4, failures: 0, nextPollAt: T0 + 2 * MIN });
        expect(await store.pollState('other')).toBeUndefined();
      });

      it('keeps at most maxSeen keys per workflow, forgetting the least recently seen first', async () => {
        const store = await fresh();
        let now = T0;
        const poll = async (keys: string[], max: number): Promise<string[]> => {
          await store.claimPoll('lead-intake', 'd', LEASE, now);
          const found = keys.map((k) => item(k));
          const ids = await store.completePoll('lead-intake', 'd', found, null, now + MIN, now, max);
          now += MIN;
          return found.filter((f) => ids.includes(f.run!.id)).map((f) => f.key);
        };
        expect(await poll(['k1', 'k2', 'k3'], 3)).toEqual(['k1', 'k2', 'k3']);
        // k1 is seen again, so k2 is now the least recently seen: k4 pushes it out.
        expect(await poll(['k1', 'k4'], 3)).toEqual(['k4']);
        expect((await store.pollState('lead-intake'))?.seen).toBe(3);
        expect(await poll(['k1', 'k2', 'k3', 'k4'], 3)).toEqual(['k2']);
        await store.putWorkflowVersion({ hash: 'sha256:w3', name: 'third', text: 'name: third\n', createdAt: T0 });
        await store.claimPoll('third', 'd', LEASE, now);
        // Another workflow's keys neither count against nor push out this one's.
        await store.completePoll('third', 'd', [{ key: 'k9', run: null }], null, now + MIN, now, 1);
        expect((await store.pollState('lead-intake'))?.seen).toBe(3);
        await expect(store.completePoll('lead-intake', 'd', [], null, now, now, 0)).rejects.toThrow(RangeError);
      });

      it('counts failures in a row, escalates once when they reach the limit, and a success starts over', async () => {
        const store = await fresh();
        let now = T0;
        const fail = async () => {
          expect((await store.claimPoll('lead-intake', 'd', LEASE, now)).claimed).toBe(true);
          const r = await store.failPoll('lead-intake', 'd', 'HTTP 503', now + MIN, 3, now);
          now += MIN;
          return r;
        };
        expect(await fail()).toEqual({ failures: 1, escalate: false });
        expect(await fail()).toEqual({ failures: 2, escalate: false });
        expect(await fail()).toEqual({ failures: 3, escalate: true });
        expect(await fail()).toEqual({ failures: 4, escalate: false });
        expect(await store.pollState('lead-intake')).toMatchObject({ failures: 4, lastError: 'HTTP 503', escalatedAt: T0 + 2 * MIN });
        await store.claimPoll('lead-intake', 'd', LEASE, now);
        await store.completePoll('lead-intake', 'd', [], null, now + MIN, now);
        now += MIN;
        expect(await store.pollState('lead-intake')).toMatchObject({ failures: 0, lastError: null, escalatedAt: null });
        expect(await fail()).toEqual({ failures: 1, escalate: false });
        expect(await fail()).toEqual({ failures: 2, escalate: false });
        expect(await fail()).toEqual({ failures: 3, escalate: true });
        await expect(store.failPoll('lead-intake', 'not-the-owner', 'x', now, 3, now)).rejects.toBeInstanceOf(PollLeaseLostError);
        expect((await store.failingPolls()).map((p) => [p.workflow, p.failures, p.lastError])).toEqual([['lead-intake', 3, 'HTTP 503']]);
        await store.claimPoll('lead-intake', 'd', LEASE, now);
        await store.completePoll('lead-intake', 'd', [], null, now + MIN, now);
        expect(await store.failingPolls()).toEqual([]);
      });
    });

    describe('escalations and their acknowledgement', () => {
      const HOUR = 3_600_000;
      async function escalated(store: Store, hasThen = true): Promise<string> {
        const id = await running(store);
        await store.finishRun(id, 'daemon-a', 'escalated', { message: 'boom', step: 'fetch' }, T0);
        await store.openEscalation({
          runId: id, workflow: 'lead-intake', workflowVersion: VERSION, owner: 'finance', members: ['a@example.com', 'b@example.com'],
          error: { message: 'boom', step: 'fetch' }, escalatedAt: T0, ackDueAt: T0 + 4 * HOUR, hasThen,
        });
        return id;
      }

      it('opens an escalation once: a replayed attempt gets the first row back', async () => {
        const store = await fresh();
        const id = await escalated(store);
        const again = await store.openEscalation({
          runId: id, workflow: 'lead-intake', workflowVersion: VERSION, owner: 'someone-else', members: [], error: { message: 'other' }, escalatedAt: T0 + 1, ackDueAt: T0 + 2, hasThen: false,
        });
        expect(again).toMatchObject({ runId: id, owner: 'finance', members: ['a@example.com', 'b@example.com'], ackDueAt: T0 + 4 * HOUR, hasThen: true, thenNextAt: T0 + 4 * HOUR, ackedAt: null });
        expect(await store.getEscalation(id)).toEqual(again);
        expect(await store.getEscalation('01NOPE')).toBeUndefined();
        expect((await store.escalationsFor([id, '01NOPE'])).map((e) => e.runId)).toEqual([id]);
      });

      it('one acknowledgement wins; a second learns who and when; an unknown run is not found', async () => {
        const store = await fresh();
        const id = await escalated(store);
        const other = await second(store);
        const [a, b] = await Promise.all([store.ackEscalation(id, 'a@example.com', 'link', T0 + HOUR), other.ackEscalation(id, 'b@example.com', 'cli', T0 + HOUR)]);
        const outcomes = [a.outcome, b.outcome].sort();
        expect(outcomes).toEqual(['acked', 'already']);
        const winner = a.outcome === 'acked' ? 'a@example.com' : 'b@example.com';
        for (const o of [a, b]) if (o.outcome !== 'not-found') expect(o.escalation).toMatchObject({ ackedBy: winner, ackedAt: T0 + HOUR, thenNextAt: null });
        expect(await store.ackEscalation('01NOPE', 'a', 'cli', T0)).toEqual({ outcome: 'not-found' });
      });

      it('a then call is claimed once past the deadline, not before, and never once acknowledged', async () => {
        const store = await fresh();
        const late = await escalated(store);
        const acked = await escalated(store);
        const none = await escalated(store, false);
        await store.ackEscalation(acked, 'a@example.com', 'cli', T0 + HOUR);
        expect(await store.claimDueThen('daemon-a', 10, LEASE, T0 + 4 * HOUR - 1)).toEqual([]);
        const other = await second(store);
        const [x, y] = await Promise.all([store.claimDueThen('daemon-a', 10, LEASE, T0 + 4 * HOUR), other.claimDueThen('daemon-b', 10, LEASE, T0 + 4 * HOUR)]);
        expect([...x, ...y].map((e) => e.runId)).toEqual([late]);
        expect([...x, ...y][0]?.thenAttempts).toBe(1);
        const holder = x.length > 0 ? 'daemon-a' : 'daemon-b';
        expect(await store.finishThen(late, 'daemon-c', { sent: true }, T0 + 4 * HOUR)).toBe(false);
        expect(await store.finishThen(late, holder, { sent: true }, T0 + 4 * HOUR + 5)).toBe(true);
        expect(await store.getEscalation(late)).toMatchObject({ thenSentAt: T0 + 4 * HOUR + 5, thenNextAt: null });
        expect(await store.claimDueThen('daemon-a', 10, LEASE, T0 + 100 * HOUR)).toEqual([]);
        expect((await store.getEscalation(none))?.thenNextAt).toBeNull();
      });

      it('a failed then call is due again at its retry time; a lapsed lease (a dead daemon) lets another take it', async () => {
        const store = await fresh();
        const id = await escalated(store);
        const due = T0 + 4 * HOUR;
        expect(await store.claimDueThen('daemon-a', 10, LEASE, due)).toHaveLength(1);
        // Held: nobody else takes it while the lease lasts.
        expect(await store.claimDueThen('daemon-b', 10, LEASE, due + 1)).toEqual([]);
        expect(await store.finishThen(id, 'daemon-a', { sent: false, error: 'HTTP 503', retryAt: due + 60_000 }, due + 10)).toBe(true);
        expect(await store.getEscalation(id)).toMatchObject({ thenError: 'HTTP 503', thenNextAt: due + 60_000, thenSentAt: null });
        expect(await store.claimDueThen('daemon-b', 10, LEASE, due + 59_999)).toEqual([]);
        expect(await store.claimDueThen('daemon-b', 10, LEASE, due + 60_000)).toHaveLength(1);
        // daemon-b dies mid-call: once its lease lapses, daemon-a takes it over.
        const taken = await store.claimDueThen('daemon-a', 10, LEASE, due + 60_000 + LEASE);
        expect(taken.map((e) => [e.runId, e.thenAttempts])).toEqual([[id, 3]]);
        expect(await store.finishThen(id, 'daemon-b', { sent: true }, due + 60_000 + LEASE)).toBe(false);
      });

      it('counts unacknowledged escalations by workflow, and those past due', async () => {
        const store = await fresh();
        await escalated(store);
        const acked = await escalated(store);
        await escalated(store);
        await store.ackEscalation(acked, 'b@example.com', 'link', T0);
        expect(await store.countEscalations(T0 + HOUR)).toEqual([{ workflow: 'lead-intake', unacknowledged: 2, overdue: 0 }]);
        expect(await store.countEscalations(T0 + 4 * HOUR)).toEqual([{ workflow: 'lead-intake', unacknowledged: 2, overdue: 2 }]);
      });
    });
  });
}
