/**
 * What the main thread and the store's worker thread (store-worker.ts, worker-store.ts) say to
 * each other, and how an error crosses between them. Structured clone keeps an Error's message
 * but drops its class and its own fields (LeaseLostError's runId and owner, SQLite's `code`),
 * and callers branch on those (`instanceof LeaseLostError`, `instanceof StoreOpenError`): so an
 * error travels as plain data and is rebuilt as the same class on the other side.
 */
import { LeaseLostError, PollLeaseLostError, type Store } from '../store.js';
import { StoreOpenError } from './sqlite-store.js';

/** The Store methods the worker serves, besides `close` (which ends it); `adoptRuns`, optional in Store, SQLite has. */
export type StoreMethod = Exclude<{ [K in keyof Store]-?: NonNullable<Store[K]> extends (...args: never[]) => unknown ? K : never }[keyof Store], 'close' | 'subscribe'>;

/** What the worker is opened with (`workerData`): SqliteStoreOptions, with the clock read once. */
export interface WorkerOpen {
  readonly path: string;
  /** The time to stamp applied migrations with (the clock is not clonable; it is read only at open). */
  readonly migratedAt: number;
  readonly busyTimeoutMs?: number;
  readonly maxBatch?: number;
  readonly readOnly?: boolean;
}

/** One call from the main thread. `stats` reads the group commit's counters; `close` commits and ends. */
export type Call =
  | { readonly id: number; readonly method: StoreMethod; readonly args: readonly unknown[] }
  | { readonly id: number; readonly method: 'stats' | 'close'; readonly args: readonly [] };

/** The answer to one call. */
export type Reply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: WireError };

/** What the worker posts: the outcome of opening, then batches of replies. */
export type WorkerMessage =
  | { readonly kind: 'ready' }
  | { readonly kind: 'open-failed'; readonly error: WireError }
  | { readonly kind: 'replies'; readonly replies: readonly Reply[] };

/** An error as data: its class by name, its message, and the fields callers read. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly runId?: string;
  readonly workflow?: string;
  readonly owner?: string;
  readonly path?: string;
  readonly stack?: string;
}

/** Turns anything thrown in the worker into data that survives postMessage. */
export function toWire(error: unknown): WireError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const fields = error as Error & { code?: unknown; runId?: unknown; workflow?: unknown; owner?: unknown; path?: unknown };
  return {
    name: error.name,
    message: error.message,
    ...(typeof fields.code === 'string' ? { code: fields.code } : {}),
    ...(typeof fields.runId === 'string' ? { runId: fields.runId } : {}),
    ...(typeof fields.workflow === 'string' ? { workflow: fields.workflow } : {}),
    ...(typeof fields.owner === 'string' ? { owner: fields.owner } : {}),
    ...(typeof fields.path === 'string' ? { path: fields.path } : {}),
    ...(error.stack !== undefined ? { stack: error.stack } : {}),
  };
}

/** Rebuilds, on the main thread, the error the worker sent: the same class, message and fields. */
export function fromWire(wire: WireError): Error {
  let error: Error;
  if (wire.name === 'LeaseLostError' && wire.runId !== undefined && wire.owner !== undefined) {
    error = new LeaseLostError(wire.runId, wire.owner);
  } else if (wire.name === 'PollLeaseLostError' && wire.workflow !== undefined && wire.owner !== undefined) {
    error = new PollLeaseLostError(wire.workflow, wire.owner);
  } else if (wire.name === 'StoreOpenError' && wire.path !== undefined) {
    const prefix = `cannot open the state database ${wire.path}: `;
    error = new StoreOpenError(wire.path, wire.message.startsWith(prefix) ? wire.message.slice(prefix.length) : wire.message);
  } else {
    const Kind = wire.name === 'TypeError' ? TypeError : wire.name === 'RangeError' ? RangeError : Error;
    error = new Kind(wire.message);
    // SQLite's errors (SqliteError, with a `code` such as SQLITE_CONSTRAINT_FOREIGNKEY) keep their name and code.
    if (error.name !== wire.name) Object.defineProperty(error, 'name', { value: wire.name, configurable: true, writable: true });
    if (wire.code !== undefined) Object.assign(error, { code: wire.code });
  }
  // The worker's stack says where it failed; the main thread's would only name the message handler.
  if (wire.stack !== undefined) error.stack = wire.stack;
  return error;
}
