/**
 * The poll trigger: one poll of a system without webhooks, as a function over an injected
 * connector runtime. It calls the connector, follows `paginate.next` up to `max_pages`, picks
 * each page's items with `items`, keys each with `dedupe`, and computes the `cursor` kept for
 * the next poll. It keeps no state: which keys are new is the store's business (the daemon's
 * poller, daemon/poller.ts), and `flux run` treats every item as new.
 *
 * Bounds: at most MAX_ITEMS_PER_POLL items per poll (the rest are left for the next poll, and
 * the cursor is computed over the items kept, so it does not move past them); at most
 * `max_pages` pages (default 10, at most 100); each page is read like any connector response
 * (the http connector's `max_response_bytes`, 10 MiB by default); a dedupe key is at most
 * MAX_KEY_LENGTH characters. An item without a key fails the poll: dropping it would lose it
 * for good without anyone hearing of it.
 */
import { connectorOf } from '../connectors/connection.js';
import { resolveUses } from '../connectors/index.js';
import { DEFAULT_ATTEMPT_TIMEOUT_MS, type CallOutcome, type ConnectionConfig, type ConnectorRuntime } from '../connectors/runtime.js';
import type { LoadedWorkflow } from '../engine/types.js';
import type { ContextName, Scope } from '../expr/cel.js';
import { renderString, renderValue, toCel, type CelContext } from '../expr/evaluate.js';
import { setData } from '../limits/json.js';
import type { Masker } from '../secrets/masker.js';
import { parseDuration } from '../workflow/duration.js';
import { asRecord, triggerOf } from '../workflow/model.js';
import { DEFAULT_ESCALATE_AFTER, DEFAULT_MAX_PAGES, MAX_PAGES_CAP, MIN_POLL_INTERVAL_MS } from '../workflow/poll-limits.js';

export { DEFAULT_ESCALATE_AFTER, DEFAULT_MAX_PAGES, MAX_PAGES_CAP, MIN_POLL_INTERVAL_MS };

/** At most this many items are taken from one poll; the rest wait for the next one. */
export const MAX_ITEMS_PER_POLL = 1000;
/** The longest dedupe key kept. */
export const MAX_KEY_LENGTH = 512;
/** How long one page's call may take unless its connection sets a `timeout`. */
export const POLL_CALL_TIMEOUT_MS = 60_000;

/** A workflow's `trigger.poll`, with the defaults filled in. */
export interface PollSpec {
  readonly everyMs: number;
  readonly uses: string;
  readonly with: Readonly<Record<string, unknown>>;
  readonly items: string | undefined;
  readonly dedupe: string;
  readonly cursor: string | undefined;
  readonly paginate: { readonly next: string; readonly maxPages: number } | undefined;
  readonly initial: 'baseline' | 'all';
  readonly escalateAfter: number;
}

/** The `trigger.poll` of a workflow, or undefined when it has none (or it is not usable). */
export function pollSpec(workflow: LoadedWorkflow): PollSpec | undefined {
  const t = triggerOf(workflow.value);
  if (t?.kind !== 'poll') return undefined;
  const p = t.body;
  if (typeof p.uses !== 'string' || typeof p.dedupe !== 'string' || typeof p.every !== 'string') return undefined;
  const every = parseDuration(p.every);
  if (!every.ok) return undefined;
  const paginate = asRecord(p.paginate);
  const maxPages = typeof paginate?.max_pages === 'number' ? Math.min(MAX_PAGES_CAP, Math.max(1, Math.floor(paginate.max_pages))) : DEFAULT_MAX_PAGES;
  return {
    everyMs: Math.max(MIN_POLL_INTERVAL_MS, every.ms),
    uses: p.uses,
    with: asRecord(p.with) ?? {},
    items: typeof p.items === 'string' ? p.items : undefined,
    dedupe: p.dedupe,
    cursor: typeof p.cursor === 'string' ? p.cursor : undefined,
    paginate: typeof paginate?.next === 'string' ? { next: paginate.next, maxPages } : undefined,
    initial: p.initial === 'all' ? 'all' : 'baseline',
    escalateAfter: typeof p.escalate_after === 'number' && p.escalate_after >= 1 ? Math.floor(p.escalate_after) : DEFAULT_ESCALATE_AFTER,
  };
}

/** One item found by a poll, with its dedupe key. */
export interface PolledItem {
  readonly key: string;
  readonly item: unknown;
}

/** What one poll found, or why it failed. */
export type PollResult =
  | {
    readonly ok: true;
    /** The items, in the order the pages gave them, each key once (the first wins). */
    readonly items: readonly PolledItem[];
    /** The cursor for the next poll (the previous one when the poll has no `cursor`). */
    readonly cursor: unknown;
    readonly pages: number;
    /** The last page read still had a next page (`max_pages` was reached). */
    readonly morePages: boolean;
    /** Items past MAX_ITEMS_PER_POLL, left for the next poll. */
    readonly dropped: number;
  }
  | { readonly ok: false; readonly message: string; readonly pages: number };

/** What a poll needs. */
export interface PollDeps {
  readonly workflow: LoadedWorkflow;
  readonly spec: PollSpec;
  readonly connectors: Readonly<Record<string, ConnectorRuntime>>;
  /** Values of the workflow's declared secrets; each is added to the masker. */
  readonly secrets: Readonly<Record<string, string>>;
  /** Overrides of the workflow's `env` values. */
  readonly environment: Readonly<Record<string, string | undefined>>;
  readonly masker: Masker;
  /** The cursor the previous poll left (null before the first). */
  readonly cursor: unknown;
  readonly signal: AbortSignal;
  /** Tells the connector the call is a dry run (`flux run --dry-run`). */
  readonly dryRun?: boolean;
}

class PollFailure extends Error {}

const scopes = new Map<string, Scope>();
function scope(contexts: readonly ContextName[], loopVars: readonly string[] = []): Scope {
  const key = `${contexts.join(',')}|${loopVars.join(',')}`;
  let s = scopes.get(key);
  if (!s) scopes.set(key, (s = { contexts, loopVars }));
  return s;
}
const BASE: readonly ContextName[] = ['poll', 'secrets', 'env', 'workflow'];
const WITH_SCOPE = scope(BASE);
const PAGE_SCOPE = scope(['response', ...BASE]);
const ITEM_SCOPE = scope(['response', ...BASE], ['item']);
const CURSOR_SCOPE = scope(['response', 'items', ...BASE]);
const CONNECTION_SCOPE = scope(['secrets', 'env', 'run', 'workflow']);

/** Performs one poll. Never throws: a failure is a value with a message saying where. */
export async function pollOnce(d: PollDeps): Promise<PollResult> {
  let pages = 0;
  try {
    const ctx = pollContext(d);
    const { spec } = d;
    let params = asRecord(evaluate('with', () => renderValue(spec.with, WITH_SCOPE, ctx))) ?? {};
    const found: PolledItem[] = [];
    const keys = new Set<string>();
    let dropped = 0;
    let response: unknown;
    let morePages = false;
    for (;;) {
      pages++;
      response = await call(d, params, ctx);
      const pageCtx = { ...ctx, response: toCel(response) };
      const listed = spec.items === undefined ? asRecord(response)?.body : evaluate('items', () => renderString(spec.items!, PAGE_SCOPE, pageCtx));
      if (!Array.isArray(listed)) throw new PollFailure(`page ${pages}: \`items\` gave ${describe(listed)}, not a list`);
      for (const [i, item] of listed.entries()) {
        const key = keyOf(item, i, pages, pageCtx, spec.dedupe);
        if (keys.has(key)) continue;
        if (found.length >= MAX_ITEMS_PER_POLL) {
          dropped++;
          continue;
        }
        keys.add(key);
        found.push({ key, item });
      }
      if (!spec.paginate) break;
      const next = evaluate('paginate.next', () => renderString(spec.paginate!.next, PAGE_SCOPE, pageCtx));
      if (next === null || next === undefined || next === '' || next === false) break;
      if (pages >= spec.paginate.maxPages || found.length >= MAX_ITEMS_PER_POLL) {
        morePages = true;
        break;
      }
      params = nextParams(params, next, d, pages);
    }
    let cursor = d.cursor ?? null;
    if (spec.cursor !== undefined) {
      const cursorCtx = { ...ctx, response: toCel(response), items: toCel(found.map((f) => f.item)) };
      const value = evaluate('cursor', () => renderString(spec.cursor!, CURSOR_SCOPE, cursorCtx));
      // An empty poll keeps the cursor it had: `max([])` is null, and the next poll must not start over.
      if (value !== null && value !== undefined) cursor = value;
    }
    return { ok: true, items: found, cursor, pages, morePages, dropped };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, message: d.masker.mask(message), pages };
  }
}

/** What a poll's expressions see besides the page: the previous cursor, the declared secrets (each added to the masker), env and the workflow. Throws when a declared secret has no value. */
export function pollContext(d: Pick<PollDeps, 'workflow' | 'secrets' | 'environment' | 'masker' | 'cursor'>): CelContext {
  const wf = d.workflow.value;
  const declared = Array.isArray(wf.secrets) ? wf.secrets.filter((s): s is string => typeof s === 'string') : [];
  const secrets = new Map<string, string>();
  const missing: string[] = [];
  for (const name of declared) {
    const value = Object.hasOwn(d.secrets, name) ? d.secrets[name] : undefined;
    if (value === undefined || value === '') missing.push(name);
    else {
      secrets.set(name, value);
      d.masker.add(value);
    }
  }
  if (missing.length > 0) throw new PollFailure(`secret${missing.length === 1 ? '' : 's'} ${missing.map((m) => `\`${m}\``).join(', ')} not set`);
  const env = new Map(Object.entries(asRecord(wf.env) ?? {}).map(([name, value]) => {
    const override = Object.hasOwn(d.environment, name) ? d.environment[name] : undefined;
    return [name, toCel(override !== undefined ? override : value)];
  }));
  const workflow = { name: d.workflow.name, owner: d.workflow.owner, version: d.workflow.version };
  const run = toCel({ id: '', started_at: '', trigger: 'poll', attempt: 1 });
  return { poll: toCel({ cursor: d.cursor ?? null }), secrets, env, workflow, run };
}

/** Evaluates one field's expression; its failure names the field. */
function evaluate(field: string, work: () => unknown): unknown {
  try {
    return work();
  } catch (error) {
    throw new PollFailure(`trigger.poll.${field}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function keyOf(item: unknown, index: number, page: number, pageCtx: CelContext, dedupe: string): string {
  const where = `page ${page}, item ${index + 1}`;
  const raw = evaluate('dedupe', () => {
    try {
      return renderString(dedupe, ITEM_SCOPE, { ...pageCtx, item: toCel(item) });
    } catch (error) {
      throw new Error(`${where}: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
  if (typeof raw === 'number' && Number.isFinite(raw)) return String(raw);
  if (typeof raw !== 'string' || raw === '') throw new PollFailure(`trigger.poll.dedupe: ${where} has no key (the expression gave ${describe(raw)}); every item needs one`);
  if (raw.length > MAX_KEY_LENGTH) throw new PollFailure(`trigger.poll.dedupe: ${where}: the key is ${raw.length} characters long, more than ${MAX_KEY_LENGTH}`);
  return raw;
}

/**
 * The next page's parameters. A mapping is merged into `with` (e.g. `{ query: { page: 2 } }`);
 * a string is the next page's address: a path, or a URL under the connection's base_url (a
 * link to another host is refused, so a page cannot send the credentials elsewhere).
 */
function nextParams(params: Readonly<Record<string, unknown>>, next: unknown, d: PollDeps, page: number): Record<string, unknown> {
  const merge = asRecord(next);
  if (merge) return mergeParams(params, merge);
  if (typeof next !== 'string') throw new PollFailure(`page ${page}: \`paginate.next\` gave ${describe(next)}; give a path, a URL or a mapping of \`with\` fields`);
  const standalone = !d.spec.uses.includes('.');
  const { query: _query, ...rest } = params;
  if (standalone) return { ...rest, url: next };
  if (next.startsWith('/')) return { ...rest, path: next };
  const base = connectionBase(d);
  if (base !== undefined && next.startsWith(base)) return { ...rest, path: `/${next.slice(base.length).replace(/^\/+/, '')}` };
  throw new PollFailure(`page ${page}: the next page ${JSON.stringify(d.masker.clip(next, 200))} is not under the connection's base_url; flux follows only paths or links on the same base_url`);
}

function mergeParams(into: Readonly<Record<string, unknown>>, from: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...into };
  for (const [k, v] of Object.entries(from)) {
    const a = asRecord(out[k]);
    const b = asRecord(v);
    setData(out, k, a && b ? mergeParams(a, b) : v);
  }
  return out;
}

function connectionBase(d: PollDeps): string | undefined {
  const name = d.spec.uses.split('.')[0]!;
  const raw = asRecord(asRecord(d.workflow.value.connections)?.[name]);
  if (!raw) return undefined;
  const rendered = asRecord(renderValue(raw, CONNECTION_SCOPE, pollContext(d)));
  return typeof rendered?.base_url === 'string' ? rendered.base_url.replace(/\/+$/, '') : undefined;
}

/** Calls the poll's connector once; a failed call fails the poll. */
async function call(d: PollDeps, params: Readonly<Record<string, unknown>>, ctx: CelContext): Promise<unknown> {
  const outcome = await callOperation(d, d.spec.uses, params, ctx, { signal: d.signal, key: `poll:${d.workflow.name}`, timeoutMs: POLL_CALL_TIMEOUT_MS, dryRun: d.dryRun === true });
  if (!outcome.ok) throw new PollFailure(`${d.spec.uses}: ${outcome.error?.message ?? 'the call failed'}`);
  return outcome.output;
}

/** What calling a connector outside a run needs. */
export interface OperationDeps {
  readonly workflow: LoadedWorkflow;
  readonly connectors: Readonly<Record<string, ConnectorRuntime>>;
  readonly masker: Masker;
}

/**
 * Calls `uses` (a connector, or an operation of a declared connection, rendered in `ctx`) with
 * `params`, outside any run: a poll's page, or the message telling an owner its polls fail. A
 * failed call is a value; the call is bounded by the connection's `timeout` or `timeoutMs`.
 */
export async function callOperation(
  d: OperationDeps, uses: string, params: Readonly<Record<string, unknown>>, ctx: CelContext,
  o: { readonly signal: AbortSignal; readonly key: string; readonly timeoutMs: number; readonly dryRun?: boolean },
): Promise<CallOutcome> {
  const connections = asRecord(d.workflow.value.connections) ?? {};
  const resolved = resolveUses(uses, Object.fromEntries(Object.entries(connections).map(([k, v]) => [k, { type: connectorOf(v) ?? 'http' }])));
  if (!resolved.ok) return { ok: false, output: null, error: { message: resolved.message, retryable: false } };
  const runtime = d.connectors[resolved.connector.name];
  if (!runtime) return { ok: false, output: null, error: { message: `connector \`${resolved.connector.name}\` is not available`, retryable: false } };
  let connection: ConnectionConfig | undefined;
  let timeoutMs = o.timeoutMs;
  if (resolved.connection) {
    const raw = asRecord(connections[resolved.connection]) ?? {};
    connection = renderValue(raw, CONNECTION_SCOPE, ctx) as ConnectionConfig;
    const t = typeof raw.timeout === 'string' ? parseDuration(raw.timeout) : undefined;
    if (t?.ok) timeoutMs = Math.min(t.ms, DEFAULT_ATTEMPT_TIMEOUT_MS);
  }
  const operation = resolved.name.split('.').pop() ?? resolved.name;
  return runtime.call(
    { operation, params, ...(connection ? { connection } : {}) },
    { signal: o.signal, idempotencyKey: o.key, masker: d.masker, dryRun: o.dryRun === true, timeoutMs },
  );
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return `a ${typeof value}`;
}
