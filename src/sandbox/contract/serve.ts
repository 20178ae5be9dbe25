/**
 * The contract sandbox: each checked vendor's API at its own path prefix (`/slack/api/...`,
 * `/stripe/v1/...`). A request under a prefix is read as if it had been sent to the vendor: its
 * operation is found in the vendor's description, it is checked there (parameters, body) with
 * the same checker the connector contract tests use, credentials are required, and only then
 * does the vendor's handler run against the vendor's state. What fails gets the vendor's own
 * error body and status, so a workflow that would fail in production fails here too.
 *
 * A vendor with no description the project may keep (HubSpot) is played, not checked: its site
 * declares `routes` (its connector's operations) instead, and only its handlers look at a request.
 *
 * Besides the vendors: idempotent replays as each vendor does them, and queued failures (a
 * 429 with the vendor's rate-limit headers) that tests ask for through `/_sandbox/fail`.
 */
import { connectorSpecs } from '../../connectors/index.js';
import { checkRequest, decodeForm, loadDescription, matchPath, serverPath, type Description } from '../../connectors/contract/check.js';
import { createTokenIssuer, type TokenIssuer } from './oauth.js';
import { createStore, matchRoute, VendorError, type Json, type Reply, type VendorCall, type VendorSite, type VendorStore } from './site.js';
import { vendorSites } from './sites.js';

/** A request as the sandbox's HTTP server read it. */
export interface IncomingCall {
  readonly method: string;
  /** Path and query, as sent. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** A failure queued for a vendor's next calls. */
export interface QueuedFailure {
  readonly status: 429 | 503;
  readonly retryAfterSeconds: number;
  count: number;
}

export interface ContractSandbox {
  /** The reply to `call`, or undefined when its path is under no vendor's prefix. */
  handle(call: IncomingCall): { reply: Reply; vendor: string; operation?: string } | undefined;
  /** Every vendor's records, by prefix then collection. */
  state(): Record<string, Record<string, Json[]>>;
  /** Makes the next `count` calls to the vendor at `prefix` fail with `status`. */
  fail(prefix: string, failure: QueuedFailure): void;
  /** The vendor prefixes served. */
  readonly prefixes: readonly string[];
  /** The OAuth token endpoints' issuer: expire its tokens, count its requests. */
  readonly tokens: TokenIssuer;
}

interface LiveSite {
  readonly site: VendorSite;
  readonly store: VendorStore;
  readonly replays: Map<string, { fingerprint: string; reply: Reply }>;
  failures: QueuedFailure[];
}

const descriptions = new Map<string, Description>();

/** The description the connector `name` is checked against, loaded once per process. */
function descriptionOf(name: string): Description {
  let d = descriptions.get(name);
  if (!d) {
    const check = connectorSpecs[name]?.vendorCheck;
    if (check?.checked !== true) throw new Error(`connector ${name} has no vendor description`);
    descriptions.set(name, (d = loadDescription(check)));
  }
  return d;
}

/** Creates the vendors' stand-ins, each seeded with the records the connectors' examples name. */
export function createContractSandbox(options: { now?: () => number; sites?: readonly VendorSite[] } = {}): ContractSandbox {
  const now = options.now ?? Date.now;
  const live = new Map<string, LiveSite>();
  const tokens = createTokenIssuer(now);
  for (const site of options.sites ?? vendorSites) {
    const store = createStore(now);
    site.seed(store);
    live.set(site.prefix, { site, store, replays: new Map(), failures: [] });
  }

  function handle(call: IncomingCall): { reply: Reply; vendor: string; operation?: string } | undefined {
    const at = new URL(call.url, 'http://sandbox');
    const [, prefix = '', ...rest] = at.pathname.split('/');
    const vendor = live.get(prefix);
    if (!vendor) return undefined;
    const { site } = vendor;
    const headers = Object.fromEntries(Object.entries(call.headers).map(([k, v]) => [k.toLowerCase(), v]));
    if (site.oauth && `/${rest.join('/')}` === site.oauth.tokenPath) {
      return { vendor: prefix, operation: 'oauth token', reply: tokens.token(prefix, site.oauth, call.method.toUpperCase(), headers, call.body) };
    }
    const failure = vendor.failures[0];
    if (failure) {
      if (--failure.count <= 0) vendor.failures.shift();
      return { vendor: prefix, reply: failed(site, failure, now()) };
    }
    const method = call.method.toUpperCase();
    // Every (origin, description) the path matches an operation of, the site's main origin first.
    // A site without a description (routes) has none: it is routed by its own list, and the
    // checks below that need a description find no candidate to check against.
    const candidates: { d: Description; url: string; template: string; values: Readonly<Record<string, string>> }[] = [];
    for (const origin of site.routes ? [] : [site.origin, ...(site.otherOrigins ?? [])]) {
      const url = `${origin}/${rest.join('/')}${at.search}`;
      for (const name of site.connectors) {
        const d = descriptionOf(name);
        const rawPath = serverPath(d, url);
        const found = rawPath === undefined ? undefined : matchPath(d, rawPath);
        const item = found ? (d.doc.paths as Record<string, Json>)[found.template] : undefined;
        if (found && item?.[method.toLowerCase()]) candidates.push({ d, url, template: found.template, values: found.values });
      }
    }
    const matched = site.routes ? matchRoute(site.routes, method, `/${rest.join('/')}`) : candidates[0];
    const errorReply = (e: VendorError): Reply => site.error(e);
    if (!matched) return { vendor: prefix, reply: errorReply(new VendorError('not_found', `Unrecognized request URL (${method}: /${rest.join('/')})`)) };
    const key = `${method} ${matched.template}`;
    const handler = site.handlers[key];
    const operation = matched.template;
    if (!handler) return { vendor: prefix, operation, reply: errorReply(new VendorError('not_found', `The sandbox does not play ${key} yet`)) };
    if (!site.public?.includes(key)) {
      if (!hasCredentials(headers.authorization)) {
        return { vendor: prefix, operation, reply: errorReply(new VendorError('unauthorized', 'No valid credentials were sent (Authorization header missing or empty)')) };
      }
      const verdict = tokens.check(site.tokensFrom ?? prefix, headers.authorization);
      if (verdict !== 'ok') {
        const why = verdict === 'expired' ? 'The access token expired' : 'The access token is not one this vendor issued';
        return { vendor: prefix, operation, reply: errorReply(new VendorError('unauthorized', `${why}; get a new one from the token endpoint`)) };
      }
    }
    // An operation served on another host (Box's uploads) is checked at that host: the first
    // candidate whose description puts the operation on the origin it was read at.
    let problems: string[] = [];
    for (const candidate of candidates.filter((c) => c.template === matched.template)) {
      const errata = errataOf(site, key);
      problems = checkRequest(candidate.d, { method, url: candidate.url, headers, body: call.body === '' ? null : call.body }).filter((p) => !errata.includes(p));
      if (!problems.some((p) => p.includes(' is served at '))) break;
    }
    if (problems.length > 0) return { vendor: prefix, operation, reply: errorReply(new VendorError('invalid', problems.join('; '), fieldOf(problems[0]!))) };
    const vendorCall: VendorCall = {
      method, template: matched.template, params: matched.values, query: at.searchParams, body: parseBody(call.body, headers['content-type']), headers, store: vendor.store,
    };
    const idempotencyKey = site.idempotencyKey?.(vendorCall);
    const fingerprint = `${key} ${JSON.stringify(matched.values)} ${call.body}`;
    if (idempotencyKey !== undefined) {
      const previous = vendor.replays.get(idempotencyKey);
      if (previous && previous.fingerprint !== fingerprint) {
        return { vendor: prefix, operation, reply: errorReply(new VendorError('invalid', `Keys for idempotent requests can only be used with the same parameters they were first used with (key '${idempotencyKey}')`, undefined, 'idempotency_key_reused')) };
      }
      if (previous) return { vendor: prefix, operation, reply: { ...previous.reply, headers: { ...previous.reply.headers, 'idempotent-replayed': 'true' } } };
    }
    let reply: Reply;
    try {
      const out = handler(vendorCall);
      reply = isReply(out) ? out : { status: 200, body: out };
    } catch (error) {
      if (!(error instanceof VendorError)) throw error;
      reply = errorReply(error);
    }
    if (idempotencyKey !== undefined && reply.status < 500) vendor.replays.set(idempotencyKey, { fingerprint, reply });
    return { vendor: prefix, operation, reply };
  }

  return {
    handle,
    prefixes: [...live.keys()],
    tokens,
    state: () => Object.fromEntries([...live].map(([prefix, v]) => [prefix, v.store.collections])),
    fail(prefix, failure) {
      const vendor = live.get(prefix);
      if (!vendor) throw new VendorError('not_found', `no vendor at /${prefix}; vendors: ${[...live.keys()].join(', ')}`);
      vendor.failures.push({ ...failure });
    },
  };
}

/** The problems the site's connectors' errata excuse at `key` (`METHOD template`): the description's known mistakes. */
function errataOf(site: VendorSite, key: string): readonly string[] {
  return site.connectors.flatMap((name) => {
    const check = connectorSpecs[name]?.vendorCheck;
    return check?.checked === true ? check.errata?.[key] ?? [] : [];
  });
}

function failed(site: VendorSite, failure: QueuedFailure, nowMs: number): Reply {
  const reply = failure.status === 429
    ? site.error(new VendorError('rate_limited', 'Rate limit exceeded; retry after the time in Retry-After'))
    : site.error(new VendorError('invalid', 'The service is temporarily unavailable', undefined, 'service_unavailable', 503));
  const headers = {
    ...reply.headers, 'retry-after': String(failure.retryAfterSeconds),
    ...(failure.status === 429 ? site.rateLimitHeaders?.(failure.retryAfterSeconds, nowMs) : {}),
  };
  return { ...reply, status: failure.status, headers };
}

/** An Authorization header with something after its scheme (`Bearer x`, `Basic x`, `Bot x`). */
function hasCredentials(authorization: string | undefined): boolean {
  return authorization !== undefined && /^\S+\s+\S/.test(authorization.trim());
}

function isReply(value: unknown): value is Reply {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && typeof (value as Reply).status === 'number' && Object.keys(value).every((k) => k === 'status' || k === 'body' || k === 'headers');
}

function parseBody(text: string, contentType: string | undefined): unknown {
  if (text === '') return undefined;
  if ((contentType ?? '').includes('application/x-www-form-urlencoded')) return decodeForm(text);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * The request field a checker problem is about, as a dotted path: `form field \`channel\`` →
 * channel, `body/quick_pay must have required property 'location_id'` → quick_pay.location_id.
 */
export function fieldOf(problem: string): string | undefined {
  const named = /`([^`]+)`/.exec(problem);
  if (named) return named[1];
  const at = /^body(\/\S*)?/.exec(problem);
  if (!at) return undefined;
  const path = (at[1] ?? '').split('/').filter(Boolean);
  const missing = /required property '([^']+)'/.exec(problem);
  if (missing) path.push(missing[1]!);
  const extra = /additional properties \(`([^`]+)`\)/.exec(problem);
  if (extra) path.push(extra[1]!);
  return path.length > 0 ? path.join('.') : undefined;
}
