// The scheduler on a real SQLite store in a temp directory, driven by a clock the test moves:
// each fire is enqueued once (across ticks, restarts and two schedulers on one store), catch_up
// decides what becomes of fires missed while it was down, overlap skip/queue hold back a fire
// while a run is in progress, and the observer hears of skipped and missed fires and lateness.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { workflowLimits } from '../../src/daemon/limits.js';
import { createScheduler, type ScheduleObserver, type Scheduler } from '../../src/daemon/scheduler.js';
import type { Clock } from '../../src/engine/clock.js';
import type { LoadedWorkflow } from '../../src/engine/types.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { RunRow, Store } from '../../src/store/store.js';
import { lateness, nextFire } from '../../src/triggers/schedule.js';

const H = 3_600_000;
/** A fire instant of an hourly schedule. */
const T0 = Date.parse('2026-11-24T09:00:00.000Z');

class TestClock implements Clock {
  constructor(public t: number) {}
  now(): number {
    return this.t;
  }
  async sleep(ms: number): Promise<void> {
    this.t += ms;
  }
}

function workflow(name: string, schedule: Record<string, unknown>, extra: Record<string, unknown> = {}): LoadedWorkflow {
  return {
    file: `${name}.yaml`, name, owner: 'ops@example.com', version: `sha256:${name}`, baseline: null,
    value: { name, owner: 'ops@example.com', trigger: { schedule }, steps: [{ id: 'a', set: { x: 1 } }], ...extra },
  };
}

const opened: { store: Store; schedulers: Scheduler[] }[] = [];
afterEach(async () => {
  for (const o of opened.splice(0)) {
    for (const s of o.schedulers) await s.stop();
    await o.store.close();
  }
});

interface Harness {
  readonly store: Store;
  readonly clock: TestClock;
  readonly lines: string[];
  readonly seen: { skipped: [string, number][]; missed: [string, number][]; started: [string, number, number][] };
  /** A scheduler on this store (a daemon; a second one is a restart or another daemon). */
  scheduler(options?: { cap?: number }): Scheduler;
  /** Runs of a workflow, oldest fire first. */
  runs(name: string): Promise<RunRow[]>;
}

async function harness(workflows: readonly LoadedWorkflow[], start = T0 - 30 * 60_000, path?: string): Promise<Harness> {
  const dbPath = path ?? join(mkdtempSync(join(tmpdir(), 'flux-sched-')), 'flux.db');
  const store = await openSqliteStore({ path: dbPath, now: () => start });
  await Promise.all(workflows.map((w) => store.putWorkflowVersion({ hash: w.version, name: w.name, text: `name: ${w.name}\n`, createdAt: start })));
  const entry = { store, schedulers: [] as Scheduler[] };
  opened.push(entry);
  const clock = new TestClock(start);
  const lines: string[] = [];
  const seen: Harness['seen'] = { skipped: [], missed: [], started: [] };
  const observer: ScheduleObserver = {
    fireSkipped: (w, t) => seen.skipped.push([w, t]),
    firesMissed: (w, n) => seen.missed.push([w, n]),
  };
  return {
    store, clock, lines, seen,
    // The timer is left to sleep: the test ticks by hand, so nothing races it.
    scheduler: (options = {}) => {
      const s = createScheduler({ store, clock, log: (l) => lines.push(l), observer, maxSleepMs: 3_600_000, ...(options.cap ? { catchUpCap: options.cap } : {}) });
      entry.schedulers.push(s);
      return s;
    },
    runs: async (name) => (await store.listRuns({ workflow: name, limit: 100_000 })).sort((a, b) => a.scheduledFor! - b.scheduledFor!),
  };
}

/** Claims and finishes every run the store hands out now, as a daemon's runners would. */
async function runAll(h: Harness, limits = new Map()): Promise<void> {
  for (;;) {
    const claims = await h.store.claimRuns('d', 100, 30_000, h.clock.t, limits);
    if (claims.length === 0) return;
    for (const c of claims) {
      // How late each fire's run started, from the store's first-claim time (as the daemon reports it).
      if (c.reason === 'start' && c.run.scheduledFor !== null) h.seen.started.push([c.run.workflow, c.run.scheduledFor, lateness(c.run.scheduledFor, c.run.startedAt!)]);
      await h.store.finishRun(c.run.id, 'd', 'succeeded', null, h.clock.t);
    }
  }
}

describe('scheduler', () => {
  it('enqueues each hourly fire once, with its fire key, scheduled time and event, and not before its time', async () => {
    const w = workflow('hourly', { cron: '0 * * * *' });
    const h = await harness([w]);
    const s = h.scheduler();
    await s.setWorkflows([w]);
    expect(await h.runs('hourly')).toEqual([]);
    for (let i = 0; i < 48; i++) {
      h.clock.t = T0 + i * H + 250;
      await s.tick();
      await s.tick(); // a second look at the same time finds nothing new
      await runAll(h);
    }
    const runs = await h.runs('hourly');
    expect(runs.map((r) => r.scheduledFor)).toEqual(Array.from({ length: 48 }, (_, i) => T0 + i * H));
    expect(runs.every((r) => r.trigger === 'schedule' && r.status === 'succeeded' && r.startedAt === r.scheduledFor! + 250)).toBe(true);
    expect(runs[3]?.event).toEqual({ scheduled_for: '2026-11-24T12:00:00.000Z' });
    expect(await h.store.lastFire('hourly')).toBe(T0 + 47 * H);
    expect(h.seen.started).toHaveLength(48);
    expect(h.seen.started.every(([, , late]) => late === 250)).toBe(true);
    expect(h.lines).toEqual([]);
    expect(s.lastTickAt).toBe(T0 + 47 * H + 250);
  });

  it('a new schedule starts at its start: nothing from before runs, a fire due that instant does', async () => {
    const w = workflow('every-minute', { cron: '* * * * *' });
    const h = await harness([w], T0);
    await h.scheduler().setWorkflows([w]);
    expect((await h.runs('every-minute')).map((r) => r.scheduledFor)).toEqual([T0]);
  });

  it('enqueues a fire shortly before its time, and says when it is due to start', async () => {
    const w = workflow('hourly', { cron: '0 * * * *' });
    const h = await harness([w]);
    let due = 0;
    const s = createScheduler({ store: h.store, clock: h.clock, log: (l) => h.lines.push(l), onEnqueued: () => due++, maxSleepMs: 3_600_000, leadMs: 250 });
    opened[0]!.schedulers.push(s);
    await s.setWorkflows([w]);
    h.clock.t = T0 - 251;
    await s.tick();
    expect(await h.runs('hourly')).toEqual([]);
    h.clock.t = T0 - 100;
    await s.tick();
    expect((await h.runs('hourly')).map((r) => [r.status, r.scheduledFor])).toEqual([['queued', T0]]);
    expect(due).toBe(0);
    expect(await h.store.claimRuns('d', 10, 30_000, T0 - 1)).toEqual([]);
    h.clock.t = T0;
    await s.tick();
    expect(due).toBe(1);
    expect((await h.store.claimRuns('d', 10, 30_000, T0)).map((c) => c.run.scheduledFor)).toEqual([T0]);
  });

  it('a schedule that never fired starts when its version was first stored: what it missed since goes by catch_up', async () => {
    const latest = workflow('latest', { cron: '0 * * * *', catch_up: 'latest' });
    const none = workflow('none', { cron: '0 * * * *' });
    const h = await harness([latest, none]); // versions stored at T0 - 30 min
    h.clock.t = T0 + 5 * H + 30 * 60_000;
    await h.scheduler().setWorkflows([latest, none]);
    expect((await h.runs('latest')).map((r) => r.scheduledFor)).toEqual([T0 + 5 * H]);
    expect(await h.runs('none')).toEqual([]);
    expect(h.seen.missed).toEqual([['latest', 5], ['none', 6]]);
  });

  it('a restart, and a second scheduler on the same store, never enqueue a fire twice', async () => {
    const w = workflow('hourly', { cron: '0 * * * *', catch_up: 'all', overlap: 'allow' });
    const h = await harness([w]);
    const a = h.scheduler();
    await a.setWorkflows([w]);
    h.clock.t = T0 + 5;
    await a.tick();
    await a.stop();
    // Restarted at the same time, with another daemon on the store at once.
    const b = h.scheduler();
    const c = h.scheduler();
    await Promise.all([b.setWorkflows([w]), c.setWorkflows([w])]);
    h.clock.t = T0 + 3 * H + 5;
    await Promise.all([b.tick(), c.tick()]);
    expect((await h.runs('hourly')).map((r) => r.scheduledFor)).toEqual([T0, T0 + H, T0 + 2 * H, T0 + 3 * H]);
  });

  describe('catch_up after the scheduler was down for ten hours', () => {
    async function downTenHours(catchUp: string, cap?: number): Promise<{ h: Harness; fires: number[] }> {
      const w = workflow('hourly', { cron: '0 * * * *', catch_up: catchUp, overlap: 'allow' });
      const h = await harness([w]);
      const before = h.scheduler();
      await before.setWorkflows([w]);
      h.clock.t = T0 + 1000;
      await before.tick();
      await before.stop();
      h.clock.t = T0 + 10 * H + 30 * 60_000; // fires T0+1h … T0+10h were missed
      await h.scheduler(cap ? { cap } : {}).setWorkflows([w]);
      return { h, fires: (await h.runs('hourly')).map((r) => r.scheduledFor!).slice(1) };
    }

    it('none: the missed fires are not run, and are logged and counted', async () => {
      const { h, fires } = await downTenHours('none');
      expect(fires).toEqual([]);
      expect(h.lines).toEqual(['schedule hourly: 10 missed fires not run (catch_up: none)']);
      expect(h.seen.missed).toEqual([['hourly', 10]]);
    });

    it('latest: the newest missed fire runs once', async () => {
      const { h, fires } = await downTenHours('latest');
      expect(fires).toEqual([T0 + 10 * H]);
      expect(h.lines).toEqual([
        'schedule hourly: 9 missed fires not run (catch_up: latest)',
        'schedule hourly: catching up 1 missed fire (catch_up: latest), from 2026-11-24T19:00:00.000Z',
      ]);
    });

    it('all: every missed fire runs, oldest first', async () => {
      const { h, fires } = await downTenHours('all');
      expect(fires).toEqual(Array.from({ length: 10 }, (_, i) => T0 + (i + 1) * H));
      expect(h.lines).toEqual(['schedule hourly: catching up 10 missed fires (catch_up: all), from 2026-11-24T10:00:00.000Z']);
      // Ids sort as the fires do, so the claim starts the oldest first.
      const runs = await h.runs('hourly');
      expect(runs.map((r) => r.id)).toEqual([...runs.map((r) => r.id)].sort());
    });

    it('all, capped: the newest run and the log says the cap cut the rest', async () => {
      const { h, fires } = await downTenHours('all', 3);
      expect(fires).toEqual([T0 + 8 * H, T0 + 9 * H, T0 + 10 * H]);
      expect(h.lines[0]).toBe('schedule hourly: 7 missed fires beyond the catch-up cap of 3 (the newest 3 run)');
      expect(h.seen.missed).toEqual([['hourly', 7]]);
    });
  });

  it('overlap skip: a fire while a run is in progress is skipped, logged and counted, and not run by a later catch-up', async () => {
    const w = workflow('report', { cron: '0 * * * *', catch_up: 'all' });
    const h = await harness([w]);
    const s = h.scheduler();
    await s.setWorkflows([w]);
    h.clock.t = T0;
    await s.tick();
    const [first] = await h.store.claimRuns('d', 10, 30_000, T0, workflowLimits([w]));
    h.clock.t = T0 + H;
    await s.tick();
    expect(h.lines).toEqual([`fire skipped: report scheduled for 2026-11-24T10:00:00.000Z: run ${first!.run.id} is still in progress (overlap: skip)`]);
    expect(h.seen.skipped).toEqual([['report', T0 + H]]);
    await h.store.finishRun(first!.run.id, 'd', 'succeeded', null, T0 + H + 1);
    await s.stop();
    // A restart plans from the last fire that ran (T0): the skipped one's key is taken.
    h.clock.t = T0 + 2 * H;
    await h.scheduler().setWorkflows([w]);
    expect((await h.runs('report')).map((r) => r.scheduledFor)).toEqual([T0, T0 + 2 * H]);
  });

  it('overlap skip: a catch-up while the last run is still in progress is skipped whole, in one line', async () => {
    const w = workflow('report', { cron: '0 * * * *', catch_up: 'all' });
    const h = await harness([w]);
    const before = h.scheduler();
    await before.setWorkflows([w]);
    h.clock.t = T0;
    await before.tick();
    const [first] = await h.store.claimRuns('d', 10, 30_000, T0);
    await before.stop();
    h.clock.t = T0 + 3 * H + 30 * 60_000;
    await h.scheduler().setWorkflows([w]);
    expect(h.lines).toEqual([
      `fire skipped: report 3 fires scheduled from 2026-11-24T10:00:00.000Z to 2026-11-24T12:00:00.000Z: run ${first!.run.id} is still in progress (overlap: skip)`,
    ]);
    expect(h.seen.skipped.map(([, t]) => t)).toEqual([T0 + H, T0 + 2 * H, T0 + 3 * H]);
    expect(await h.runs('report')).toHaveLength(1);
  });

  it('overlap queue: fires wait for the run before them, then start one at a time', async () => {
    const w = workflow('sync', { cron: '0 * * * *', overlap: 'queue' });
    const h = await harness([w]);
    const limits = workflowLimits([w]);
    const s = h.scheduler();
    await s.setWorkflows([w]);
    for (let i = 0; i < 3; i++) {
      h.clock.t = T0 + i * H;
      await s.tick();
    }
    const claimed: number[] = [];
    for (let i = 0; i < 3; i++) {
      const claims = await h.store.claimRuns('d', 10, 30_000, h.clock.t, limits);
      expect(claims).toHaveLength(1);
      claimed.push(claims[0]!.run.scheduledFor!);
      await h.store.finishRun(claims[0]!.run.id, 'd', 'succeeded', null, h.clock.t);
    }
    expect(claimed).toEqual([T0, T0 + H, T0 + 2 * H]);
    expect(h.lines).toEqual([]);
  });

  it('overlap allow: fires run alongside each other', async () => {
    const w = workflow('ping', { cron: '0 * * * *', overlap: 'allow' });
    const h = await harness([w]);
    const s = h.scheduler();
    await s.setWorkflows([w]);
    for (let i = 0; i < 3; i++) {
      h.clock.t = T0 + i * H;
      await s.tick();
    }
    expect(await h.store.claimRuns('d', 10, 30_000, h.clock.t, workflowLimits([w]))).toHaveLength(3);
  });

  it('1,000 schedules on one timer: each due fire enqueued once per tick', async () => {
    const crons = ['* * * * *', '*/5 * * * *', '30 * * * * *', '0 9 * * *', '15,45 * * * *'];
    const workflows = Array.from({ length: 1000 }, (_, i) => workflow(`w${i}`, { cron: crons[i % crons.length]!, overlap: 'allow', timezone: i % 2 ? 'Europe/Berlin' : 'UTC' }));
    const start = T0 - 30 * 60_000;
    const h = await harness(workflows, start);
    const s = h.scheduler();
    await s.setWorkflows(workflows);
    expect(s.size).toBe(1000);
    let expected = 0;
    for (let m = 1; m <= 10; m++) {
      h.clock.t = start + m * 60_000;
      await s.tick();
    }
    for (const w of workflows) {
      const cron = (w.value.trigger as { schedule: { cron: string; timezone: string } }).schedule;
      for (let t = nextFire(cron.cron, cron.timezone, start - 1); t !== undefined && t <= start + 10 * 60_000; t = nextFire(cron.cron, cron.timezone, t)) expected++;
    }
    const runs = await h.store.listRuns({ limit: 100_000 });
    expect(runs).toHaveLength(expected);
    expect(new Set(runs.map((r) => `${r.workflow}@${r.scheduledFor}`)).size).toBe(expected);
  });

  it('a reload keeps a schedule where it was, adds new ones from now, and drops removed ones', async () => {
    const a = workflow('a', { cron: '0 * * * *', catch_up: 'all' });
    const b = workflow('b', { cron: '0 * * * *', overlap: 'allow' });
    const h = await harness([a, b]);
    const s = h.scheduler();
    await s.setWorkflows([a]);
    h.clock.t = T0 + 2 * H;
    // Reloaded before its tick: a's missed fires are still caught up, b starts now.
    await s.setWorkflows([b, { ...a, value: { ...a.value } }]);
    expect((await h.runs('a')).map((r) => r.scheduledFor)).toEqual([T0, T0 + H, T0 + 2 * H]);
    expect((await h.runs('b')).map((r) => r.scheduledFor)).toEqual([T0 + 2 * H]);
    await s.setWorkflows([b]);
    h.clock.t = T0 + 3 * H;
    await s.tick();
    expect((await h.runs('a'))).toHaveLength(3);
    expect((await h.runs('b'))).toHaveLength(2);
  });

  it('a store that fails keeps the fires: they are planned again and enqueued once it works', async () => {
    const w = workflow('hourly', { cron: '0 * * * *' });
    const h = await harness([w]);
    let failing = true;
    const flaky: Store = Object.create(h.store) as Store;
    flaky.enqueueFires = (fires, overlap, now) => (failing ? Promise.reject(new Error('disk I/O error')) : h.store.enqueueFires(fires, overlap, now));
    const lines: string[] = [];
    const s = createScheduler({ store: flaky, clock: h.clock, log: (l) => lines.push(l), maxSleepMs: 3_600_000 });
    opened[0]!.schedulers.push(s);
    await s.setWorkflows([w]);
    h.clock.t = T0 + 10;
    await s.tick();
    expect(lines).toEqual(['schedule hourly: could not enqueue its fires: disk I/O error; trying again in 1 s']);
    failing = false;
    h.clock.t = T0 + 500; // not yet the retry time
    await s.tick();
    expect(await h.runs('hourly')).toEqual([]);
    h.clock.t = T0 + 1010;
    await s.tick();
    expect((await h.runs('hourly')).map((r) => r.scheduledFor)).toEqual([T0]);
  });
});
