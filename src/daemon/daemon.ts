/**
 * `flux daemon`'s service: one process per state directory (a lock file names its pid) that
 * serves webhooks and runs what the store holds. It wires the parts: workflows linted and
 * stored by version, the HTTP server and its intake, and a claim loop that hands each run the
 * store gives it (queued, due to wake, or left by a daemon that died) to the runner, at most
 * `concurrency` at a time. Stopping stops intake first, lets running steps finish within the
 * grace period, and leaves the rest to be resumed from the journal.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { ConnectorRuntime } from '../connectors/runtime.js';
import type { Clock } from '../engine/clock.js';
import type { LoadedWorkflow } from '../engine/types.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/store.js';
import { startDaemonServer } from './http-server.js';
import { webhookRoutes } from './intake.js';
import { runClaimed } from './runner.js';

export interface DaemonOptions {
  readonly workflows: readonly { readonly workflow: LoadedWorkflow; readonly text: string }[];
  readonly stateDir: string;
  readonly host: string;
  readonly port: number;
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly pollMs?: number;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly clock: Clock;
  readonly connectors: Readonly<Record<string, ConnectorRuntime>>;
  readonly logDir: string;
  /** One line per thing that happened (run finished, request refused). */
  readonly log: (line: string) => void;
}

export interface Daemon {
  readonly url: string;
  /** Route problems found at start (a webhook that cannot be served), already logged. */
  readonly problems: readonly string[];
  /** Stops intake, waits up to `graceMs` for running runs, then releases the state directory. */
  stop(graceMs: number): Promise<void>;
}

/** A second daemon on the same state directory: refused, naming the first one's pid. */
export class StateDirLocked extends Error {}

/** Starts the daemon; resolves once it listens. */
export async function startDaemon(o: DaemonOptions): Promise<Daemon> {
  const lock = takeLock(o.stateDir);
  let store: Store;
  try {
    store = await openSqliteStore({ path: join(o.stateDir, 'flux.db'), now: () => o.clock.now() });
  } catch (error) {
    rmSync(lock, { force: true });
    throw error;
  }
  for (const { workflow, text } of o.workflows) {
    await store.putWorkflowVersion({ hash: workflow.version, name: workflow.name, text, createdAt: o.clock.now() });
  }
  const { routes, problems } = webhookRoutes(o.workflows.map((w) => w.workflow), o.env);
  for (const p of problems) o.log(`webhook not served: ${p}`);
  const owner = `${hostname()}:${process.pid}`;
  const secrets = Object.fromEntries(Object.entries(o.env).filter((e): e is [string, string] => typeof e[1] === 'string'));
  const running = new Set<Promise<void>>();
  let stopping = false;
  let claiming = false;

  const claim = async (): Promise<void> => {
    if (claiming || stopping) return;
    claiming = true;
    try {
      while (!stopping && running.size < o.concurrency) {
        const claims = await store.claimRuns(owner, o.concurrency - running.size, o.leaseMs, o.clock.now());
        if (claims.length === 0) break;
        for (const c of claims) {
          const turn = runClaimed(c, { store, owner, leaseMs: o.leaseMs, clock: o.clock, connectors: o.connectors, logDir: o.logDir, secrets, environment: o.env })
            .then((outcome) => {
              if (outcome.kind === 'ran') o.log(`run ${c.run.id} ${c.run.workflow} ${outcome.result.status}${outcome.result.error ? `: ${outcome.result.error.message}` : ''}`);
              else if (outcome.kind === 'lost') o.log(`run ${c.run.id} ${c.run.workflow}: taken over by another daemon`);
              else o.log(`run ${c.run.id} ${c.run.workflow} failed: ${outcome.reason}`);
            }, (error: unknown) => o.log(`run ${c.run.id} ${c.run.workflow}: ${error instanceof Error ? error.message : String(error)}; it will be resumed`))
            .finally(() => {
              running.delete(turn);
              void claim();
            });
          running.add(turn);
        }
      }
    } catch (error) {
      o.log(`claiming runs failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      claiming = false;
    }
  };

  const server = await startDaemonServer({
    routes, store, clock: o.clock, host: o.host, port: o.port, onEnqueued: () => void claim(), onProblem: (line) => o.log(line),
  });
  // Waits ending, leases lapsing and schedule fires come due without a request to announce them.
  const poll = setInterval(() => void claim(), o.pollMs ?? 250);
  void claim();

  return {
    url: server.url,
    problems,
    async stop(graceMs) {
      stopping = true;
      clearInterval(poll);
      await server.close();
      const grace = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
      await Promise.race([Promise.allSettled([...running]), grace]);
      // Runs still going keep their lease until it lapses; the next daemon resumes them from the journal.
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
