/**
 * The worker thread behind worker-store.ts: it owns the SQLite connection (a whole SqliteStore,
 * its SQL and its group commit unchanged) so that statements and each COMMIT's fsync block this
 * thread, not the daemon's event loop, and cron timers and HTTP intake stay on time.
 *
 * Calls arrive in batches, in the order the main thread made them. Each is started at once and
 * not awaited before the next: the writes of one batch, and of every batch that arrives before
 * the group commit's turn, share one transaction and one fsync, as they do on the main thread.
 * Replies are gathered and posted once per turn of this thread's loop.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { Store } from '../store.js';
import { openSqliteStore, type SqliteStore } from './sqlite-store.js';
import { toWire, type Call, type Reply, type WorkerMessage, type WorkerOpen } from './store-messages.js';

if (parentPort === null) throw new Error('store-worker.js runs as a worker thread, started by worker-store.js');
const port: MessagePort = parentPort;
const open = workerData as WorkerOpen;

let outbox: Reply[] = [];
let flushing = false;
/** Set once the store is closed: the thread ends after posting the replies it has. */
let ending = false;

function post(message: WorkerMessage): void {
  port.postMessage(message);
}

function reply(r: Reply): void {
  outbox.push(r);
  if (flushing) return;
  flushing = true;
  // One message per turn: the replies of a whole group commit travel together.
  setImmediate(() => {
    flushing = false;
    const replies = outbox;
    outbox = [];
    try {
      post({ kind: 'replies', replies });
    } catch {
      // A result that cannot be cloned (the store returns plain data, so a bug): that call is
      // answered with the error instead of being left waiting forever; the others go through.
      for (const r of replies) {
        try {
          post({ kind: 'replies', replies: [r] });
        } catch (error) {
          post({ kind: 'replies', replies: [{ id: r.id, ok: false, error: toWire(error) }] });
        }
      }
    }
    // With the port closed nothing holds this thread's loop open, and the thread exits.
    if (ending) port.close();
  });
}

function settle(id: number, work: Promise<unknown>): void {
  work.then(
    (value) => reply({ id, ok: true, value }),
    (error: unknown) => reply({ id, ok: false, error: toWire(error) }),
  );
}

function start(store: SqliteStore, call: Call): void {
  if (call.method === 'stats') return settle(call.id, Promise.resolve(store.writeStats));
  if (call.method === 'close') {
    // Commits what is pending, answers, then ends the thread.
    return settle(call.id, store.close().finally(() => (ending = true)));
  }
  const method = store[call.method] as (...args: unknown[]) => Promise<unknown>;
  try {
    // Started now, not after the previous call settled: that is what lets writes share a commit.
    settle(call.id, method.apply(store as Store, [...call.args]));
  } catch (error) {
    settle(call.id, Promise.reject(error));
  }
}

async function main(): Promise<void> {
  let store: SqliteStore;
  try {
    store = await openSqliteStore({
      path: open.path, now: () => open.migratedAt, readOnly: open.readOnly,
      ...(open.busyTimeoutMs !== undefined ? { busyTimeoutMs: open.busyTimeoutMs } : {}),
      ...(open.maxBatch !== undefined ? { maxBatch: open.maxBatch } : {}),
      // A store that cannot sync can store nothing more: the thread ends, and the daemon, told
      // that its store died, exits to be restarted. Two turns later, so that the rejections of
      // the writes the failed sync covered (posted at the next turn) reach their callers first.
      onBroken: (error) => setImmediate(() => setImmediate(() => {
        throw error;
      })),
    });
  } catch (error) {
    // The main thread rejects openWorkerStore with this (a StoreOpenError, rebuilt); the thread ends.
    post({ kind: 'open-failed', error: toWire(error) });
    port.close();
    return;
  }
  port.on('message', (calls: readonly Call[]) => {
    for (const call of calls) start(store, call);
  });
  post({ kind: 'ready' });
}

await main();
