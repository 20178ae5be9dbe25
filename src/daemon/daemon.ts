/**
 * `flux daemon`'s service: one process per state directory (a lock file names its pid) that
 * serves webhooks and runs what the store holds. It wires the parts: workflows linted and
 * stored by version, the HTTP server and its intake, and a claim loop that hands each run the
 * store gives it (queued, due to wake, or left by a daemon that died) to the runner, at most
 * `concurrency` at a time and each workflow's own limit (limits.ts), the scheduler that enqueues
 * schedule fires (scheduler.ts), and the event delivery loop (events.ts). A run it parks in a
 * durable wait is claimed again at its wake time (wake-timer.ts); the poll finds the rest.
 * Escalations that ask for acknowledgement get a link to this daemon's `/ack/` pages
 * (`publicUrl`, else the listen address), and the poll makes the `then` call of those not
 * acknowledged in time (ack-watch.ts).
 * Stopping stops intake first, lets running steps finish within the grace period, and hands the
 * rest back to be resumed from the journal.
 *
 * The workflows served are one swappable object (workflow-set.ts): `reload` re-reads the files
 * and swaps it (reload.ts). What happens is told once, to the log and to /metrics together
 * (report.ts); /healthz says whether the claim loop and the scheduler still get through the
 * store (health.ts).
 */
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { ConnectorRuntime } from '../connectors/runtime.js';
import type { Clock } from '../engine/clock.js';
import type { LoadedWorkflow } from '../engine/types.js';
import type { Masker } from '../secrets/masker.js';
import { isPostgresSpec, openDaemonStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import { unservedByDaemon } from '../triggers/index.js';
import { ackLink } from './ack-links.js';
import { ackWatch } from './ack-watch.js';
import { Health } from './health.js';
import { DEFAULT_MAX_CHAIN_DEPTH, eventDelivery, type EventStats } from './events.js';
import { startDaemonServer } from './http-server.js';
import type { IntakeSpool } from '../store/sqlite/intake-spool.js';
import type { DaemonLog } from './log.js';
import { createPrometheusMetrics, type DaemonMetrics } from './metrics.js';
import { reloader, type ReloadPlan } from './reload.js';
import { watchLoopDelay } from './loop-delay.js';
import { workflowLimits } from './limits.js';
import { runClaimed } from './runner.js';
import { approvalLink } from '../approvals/answering.js';
import { signingKey } from '../approvals/token.js';
import { createScheduler, type Scheduler } from './scheduler.js';
import { createPoller } from './poller.js';
import { reportClaim, reportTurn, reportTurnError } from './report.js';
import { wakeTimer } from './wake-timer.js';
import type { WorkflowFiles } from './workflow-files.js';
import { WorkflowSet } from './workflow-set.js';

/** Spooled deliveries adopted beyond the free slots, so that a claim finds more than it takes. */
const ADOPT_AHEAD = 64;

/** How long stopped runs get to be handed back after the grace period (a store write each). */
const HAND_BACK_MS = 5_000;

export interface DaemonOptions {
  readonly workflows: readonly { readonly workflow: LoadedWorkflow; readonly text: string }[];
  readonly stateDir: string;
  /** The store, when not the state directory's SQLite file: a postgres:// URL shared by several daemons. */
  readonly store?: string;
  readonly host: string;
  readonly port: number;
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly pollMs?: number;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly clock: Clock;
  readonly connectors: Readonly<Record<string, ConnectorRuntime>>;
  readonly logDir: string;
  /** This daemon's name in leases and run logs (default: defaultDaemonId()); unique among the daemons sharing a store. */
  readonly daemonId?: string;
  /** How many times a run may be rescued from a daemon that died before it is given up (runner.ts; default 3). */
  readonly resumeBudget?: number;
  /** How many event hops a chain of runs may take (default 10); an event past it starts nothing. */
  readonly maxChainDepth?: number;
  /** One line per thing that happened (run finished, request refused). */
  readonly log: DaemonLog;
  /** The log's masker: a reload adds the secrets new versions declare. */
  readonly masker?: Masker;
  /** Reads the workflow files again, for `reload` (SIGHUP). Without it, reload keeps what is served. */
  readonly reread?: () => Promise<WorkflowFiles>;
  /**
   * The longest the scheduler's timer sleeps before it reads the clock again (default 1 s). A
   * test clock moves in jumps from outside the process, so the CLI checks it more often.
   */
  readonly scheduleTickMs?: number;
  /** The URL people reach this daemon at, for acknowledgement links (default: the address it listens on). */
  readonly publicUrl?: string;
}

export interface Daemon {
  readonly url: string;
  /** This daemon's name in leases and in the run logs it writes. */
  readonly id: string;
  /** Route problems found at start (a webhook that cannot be served), already logged. */
  readonly problems: readonly string[];
  /** The workflows served now; the scheduler and event delivery read them here. */
  readonly workflows: WorkflowSet;
  readonly metrics: DaemonMetrics;
  readonly health: Health;
  /** Re-reads the files and serves what lints clean (see reload.ts); logs what changed. Undefined when it could not. */
  reload(): Promise<ReloadPlan | undefined>;
  /** Events delivered, runs they started and woke, and events stopped by the chain depth limit, since start. */
  readonly events: Readonly<EventStats>;
  /** The schedule service: a reload gives it the new workflows. */
  readonly scheduler: Scheduler;
  /** Resolves if the store's database thread dies: the daemon can store nothing more and should exit. */
  readonly dead: Promise<Error>;
  /** Stops intake, waits up to `graceMs` for running runs, then releases the state directory. */
  stop(graceMs: number): Promise<void>;
}

/**
 * A daemon's name when none is given: `<hostname>:<pid>:<8 hex digits>`, readable in `flux runs
 * show` and unique per process start, so a container restarted as pid 1 on the same host does
 * not pass for the daemon that held the leases before it.
 */
export function defaultDaemonId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

/** A second daemon on the same state directory: refused, naming the first one's pid. */
export class StateDirLocked extends Error {}

/** Starts the daemon; resolves once it listens. */
export async function startDaemon(o: DaemonOptions): Promise<Daemon> {
  const lock = takeLock(o.stateDir);
  let store: Store;
  let dead: Promise<Error>;
  let spool: IntakeSpool | undefined;
  try {
    const storeSpec = o.store ?? join(o.stateDir, 'flux.db');
    const opened = await openDaemonStore(storeSpec, { now: () => o.clock.now() });
    store = opened.store;
    dead = opened.dead;
    // A store this daemon owns alone (SQLite) takes webhook deliveries through a spool beside
    // it; a store several daemons share takes them directly, so that any of them can run them.
    if (store.adoptRuns !== undefined && !isPostgresSpec(storeSpec)) {
      const { IntakeSpool, spoolPathOf } = await import('../store/sqlite/intake-spool.js');
      let spoolBroken!: (error: Error) => void;
      const broken = new Promise<Error>((resolve) => (spoolBroken = resolve));
      try {
        spool = IntakeSpool.open(spoolPathOf(storeSpec), (error) => spoolBroken(new Error(`the intake spool: ${error.message}`)));
      } catch (error) {
        await store.close();
        throw error;
      }
      dead = Promise.race([dead, broken]);
    }
  } catch (error) {
    rmSync(lock, { force: true });
    throw error;
  }
  for (const { workflow, text } of o.workflows) {
    await store.putWorkflowVersion({ hash: workflow.version, name: workflow.name, text, createdAt: o.clock.now() });
  }
  // Approval links are signed with the key every daemon on this store shares.
  const linkKey = await signingKey(store, o.clock.now());
  const set = new WorkflowSet(o.env);
  const { routeProblems: problems } = set.replace(o.workflows);
  for (const p of problems) o.log.error(`webhook not served: ${p}`, { kind: 'webhook.unserved' });
  for (const u of unservedByDaemon(set.workflows())) o.log.warn(u.message, { kind: 'trigger.unserved', workflow: u.workflow.name });
  const metrics = createPrometheusMetrics({
    countRuns: () => store.countRuns(), workflows: () => set.workflows().map((w) => w.name), countEscalations: () => store.countEscalations(o.clock.now()),
  });
  // Where links (approvals, acknowledgements) point: --public-url, FLUX_PUBLIC_URL, else the listen address.
  let publicUrl = o.publicUrl ?? o.env.FLUX_PUBLIC_URL ?? '';
  const reporting = { log: o.log, metrics };
  const health = new Health();
  const claimLoop = health.heartbeat('claim loop');
  const owner = o.daemonId ?? defaultDaemonId();
  const secrets = Object.fromEntries(Object.entries(o.env).filter((e): e is [string, string] => typeof e[1] === 'string'));
  const running = new Set<Promise<void>>();
  const shutdown = new AbortController();
  // Every running run listens on it (and stops listening when its turn ends): as many as --concurrency.
  setMaxListeners(0, shutdown.signal);
  // Runs this daemon is driving. Its own lease can lapse while it still runs one (the event
  // loop stalled past the lease, or a test clock jumped): the store then hands the run back to
  // this same owner as a rescue, and a second turn beside the first would run its steps twice.
  const inHand = new Set<string>();
  let stopping = false;
  let claiming = false;
  // Asked to claim while a claim was under way: what it was asked for (a fire just enqueued)
  // may have come after that claim's query, so claim once more instead of waiting for the poll.
  let claimAgain = false;
  let limits = workflowLimits(o.workflows.map((w) => w.workflow));
  // A run this daemon parks is claimed at its wake time, not at the next poll (wake-timer.ts).
  // With every slot busy there is nothing to claim it into: the next run to end claims.
  const wakes = wakeTimer({ clock: o.clock, onDue: () => claimIfFree() });
  // Something may have become runnable (a webhook stored, a fire enqueued, an event delivered):
  // claim now if a slot is free. With every slot busy a claim would only take the store's write
  // lock for nothing, once per request under load; the next turn to end, or the poll, claims.
  const claimIfFree = (): void => {
    if (running.size < o.concurrency) void claim();
  };

  // Spooled webhook deliveries become queued runs (intake-spool.ts): the oldest, as many as
  // asked. Resolves with how many were handed over; a failed hand-over is taken again next time.
  const adopt = async (wanted: number): Promise<number> => {
    if (spool === undefined || wanted <= 0 || spool.depth === 0) return 0;
    const { rows, upTo } = spool.take(wanted);
    if (rows.length === 0) return 0;
    try {
      const { unreadable } = await store.adoptRuns!(rows);
      for (const u of unreadable) {
        o.log.error(`intake spool ${spool.path}: delivery ${u.id} cannot be read and is dropped: ${u.reason}`, { kind: 'intake.unreadable', run_id: u.id });
      }
      void spool.release(upTo, rows.length);
      return rows.length;
    } catch (error) {
      spool.giveBack();
      throw error;
    }
  };

  const claim = async (): Promise<void> => {
    if (stopping) return;
    if (claiming) {
      claimAgain = true;
      return;
    }
    claiming = true;
    claimAgain = false;
    try {
      while (!stopping) {
        claimAgain = false;
        const free = Math.max(0, o.concurrency - running.size);
        // Spooled deliveries the free slots may take, adopted in the claim's own transaction
        // (the store runs calls in order); ahead of them, as many as are spooled, stay there.
        const adopting = adopt(free > 0 ? free + ADOPT_AHEAD : 0);
        // With every slot busy this still runs, for no runs: the transaction takes the write
        // lock, so each poll proves the store writable and the loop alive to /healthz.
        const claims = await store.claimRuns(owner, free, o.leaseMs, o.clock.now(), limits);
        // Adopted but none claimed (a workflow at its limit): adopt further, and claim again.
        const adopted = await adopting;
        claimLoop.beat();
        if (claims.length === 0 && !claimAgain && adopted === 0) break;
        for (const c of claims) {
          if (inHand.has(c.run.id)) continue; // the turn in progress holds it again, renewed
          inHand.add(c.run.id);
          reportClaim(c, o.clock.now(), reporting);
          const turn = runClaimed(c, { store, owner, leaseMs: o.leaseMs, clock: o.clock, connectors: o.connectors, logDir: o.logDir, secrets, environment: o.env, shutdown: shutdown.signal, onEmitted: () => void events.tick(), ackLink: (runId, due) => ackLink(linkKey, publicUrl, runId, due), approvalLink: (runId, key, expiresAt, approver) => approvalLink(publicUrl, linkKey, runId, key, expiresAt, approver), ...(o.resumeBudget !== undefined ? { resumeBudget: o.resumeBudget } : {}) })
            .then((outcome) => {
              reportTurn(c, outcome, reporting);
              if (outcome.kind === 'ran' && outcome.result.waiting) wakes.add(Date.parse(outcome.result.waiting.wake_at));
            }, (error: unknown) => reportTurnError(c, error, reporting))
            .finally(() => {
              running.delete(turn);
              inHand.delete(c.run.id);
              void claim();
              events.afterTurn();
            });
          running.add(turn);
        }
        // Asked again while this claim ran (a delivery spooled after its adoption): go round.
        if ((claims.length === 0 && adopted === 0 && !claimAgain) || running.size >= o.concurrency) break;
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      claimLoop.fail(`claiming runs failed: ${message}`);
      o.log.error(`claiming runs failed: ${message}`, { kind: 'claim.failed', error: message });
    } finally {
      claiming = false;
    }
  };

  // Emitted and injected events: delivered on every poll, and at once when one may have arrived.
  const events = eventDelivery({
    store, owner, clock: o.clock, leaseMs: o.leaseMs, workflows: () => set.workflows(), maxChainDepth: o.maxChainDepth ?? DEFAULT_MAX_CHAIN_DEPTH,
    log: o.log, onRunnable: claimIfFree, onDelivered: (name, woken, started) => metrics.eventDelivered(name, woken, started),
  });
  const eventToken = o.env.FLUX_EVENT_TOKEN !== undefined && o.env.FLUX_EVENT_TOKEN !== '' ? o.env.FLUX_EVENT_TOKEN : undefined;
  const server = await startDaemonServer({
    routes: () => set.routes, store, ...(spool !== undefined ? { spool } : {}), clock: o.clock, host: o.host, port: o.port, onEnqueued: claimIfFree,
    onProblem: (line) => o.log.error(line, { kind: 'request.failed' }),
    onWebhook: (a) => {
      metrics.webhookRequest(a.route?.path, a.status);
      if (a.route === undefined || a.status < 400) return;
      const fields = { kind: 'webhook.refused', path: a.path, method: a.method, status: a.status, workflow: a.route.workflow.name, reason: a.reason };
      if (a.status === 401) o.log.warn(`signature rejected: ${a.method} ${a.path}: ${a.reason ?? ''}`, { ...fields, kind: 'webhook.signature_rejected' });
      else if (a.status !== 503) o.log.warn(`webhook ${a.method} ${a.path}: ${a.status} ${a.reason ?? ''}`, fields);
    },
    health: () => health.check(),
    metrics: () => metrics.render(),
    ...(eventToken !== undefined ? { eventToken } : {}), onEvent: () => void events.tick(),
    approvals: { key: linkKey, onAnswered: claimIfFree },
    ack: {
      store, key: linkKey, clock: o.clock, logDir: o.logDir,
      onAcked: (e, problem) => {
        o.log.info(`run ${e.runId} ${e.workflow}: escalation acknowledged by ${e.ackedBy ?? '?'} (link)`, { kind: 'escalation.acked', run_id: e.runId, workflow: e.workflow, by: e.ackedBy, via: 'link' });
        if (problem !== undefined) o.log.error(problem, { kind: 'escalation.acked', run_id: e.runId, workflow: e.workflow });
      },
    },
  });
  publicUrl ||= server.url;
  // Escalations not acknowledged in time: their `then` calls, checked on every poll (ack-watch.ts).
  const acks = ackWatch({ store, owner, leaseMs: o.leaseMs, clock: o.clock, connectors: o.connectors, secrets, environment: o.env, logDir: o.logDir, ackLink: (runId, due) => ackLink(linkKey, publicUrl, runId, due), log: o.log, metrics });
  if (eventToken !== undefined) o.masker?.add(eventToken);
  if (eventToken !== undefined) o.log('POST /events/NAME accepts events with the bearer token in FLUX_EVENT_TOKEN');
  // Waits ending, leases lapsing, schedule fires and events come due without a request to announce them.
  const poll = setInterval(() => {
    void claim();
    void events.tick();
    void acks.tick();
  }, o.pollMs ?? 250);
  let schedulerBeat: ReturnType<Health['heartbeat']> | undefined;
  const scheduler = createScheduler({
    store, clock: o.clock, log: o.log, onEnqueued: claimIfFree,
    onTick: () => (schedulerBeat ??= health.heartbeat('scheduler')).beat(),
    ...(o.scheduleTickMs !== undefined ? { maxSleepMs: o.scheduleTickMs } : {}),
    // Lateness is measured as a fire's run is claimed (report.ts); skipped fires are logged by the scheduler.
    observer: { fireSkipped: (workflow) => metrics.fireSkipped(workflow), firesMissed: (workflow, count) => metrics.fireSkipped(workflow, 'missed', count) },
  });
  await scheduler.setWorkflows(set.workflows());
  // Poll triggers (poller.ts): each new item found starts a run.
  const poller = createPoller({
    store, clock: o.clock, owner, connectors: o.connectors, secrets, environment: o.env, log: o.log, metrics, onEnqueued: claimIfFree,
    ...(o.scheduleTickMs !== undefined ? { maxSleepMs: o.scheduleTickMs } : {}),
  });
  await poller.setWorkflows(set.workflows());
  set.onChange(() => {
    limits = workflowLimits(set.workflows());
    void scheduler.setWorkflows(set.workflows());
    void poller.setWorkflows(set.workflows());
  });
  void claim();
  void events.tick();
  // Several daemons on one store: another one's intake, fires, answers and events wake this
  // one at once (PostgreSQL's LISTEN/NOTIFY); the polls above remain the fallback.
  const unsubscribe = store.subscribe?.((topic) => (topic === 'runs' ? claimIfFree() : void events.tick())) ?? (() => {});

  const reload = o.reread ? reloader({ reread: o.reread, set, store, clock: o.clock, env: o.env, ...reporting, ...(o.masker ? { masker: o.masker } : {}) }) : async () => undefined;
  const stopWatching = o.env.FLUX_DEBUG_LOOP_DELAY === '1' ? watchLoopDelay(o.log) : () => {};

  return {
    url: server.url,
    id: owner,
    problems,
    workflows: set,
    metrics,
    health,
    reload,
    events: events.stats,
    scheduler,
    dead,
    async stop(graceMs) {
      stopping = true;
      unsubscribe();
      clearInterval(poll);
      wakes.stop();
      stopWatching();
      await scheduler.stop();
      await poller.stop();
      await server.close();
      await events.stop();
      await acks.stop();
      const grace = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
      await Promise.race([Promise.allSettled([...running]), grace]);
      // Runs still going are stopped where they are and handed back to the store, due at once:
      // the next daemon resumes them from the journal (not as a crash: no attempt is spent).
      shutdown.abort();
      const handBack = new Promise<void>((resolve) => setTimeout(resolve, HAND_BACK_MS).unref());
      await Promise.race([Promise.allSettled([...running]), handBack]);
      await spool?.close();
      await store.close();
      rmSync(lock, { force: true });
    },
  };
}

/** One daemon per state directory: a lock file holding the pid, created exclusively. */
function takeLock(stateDir: string): string {
  mkdirSync(stateDir, { recursive: true });
  const path = join(stateDir, 'daemon.pid');
  for (let tries = 0; tries < 2; tries++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return path;
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
      const pid = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) throw new StateDirLocked(`another flux daemon (pid ${pid}) uses the state directory ${stateDir}`);
      rmSync(path, { force: true }); // left by a daemon that died: take it over
    }
  }
  throw new StateDirLocked(`cannot take the lock ${path}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}
