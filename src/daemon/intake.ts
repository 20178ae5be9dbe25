/**
 * Webhook intake: the routes the daemon serves for workflows triggered by a webhook, and what
 * one request becomes. A request is checked (method, size, signature, body) by the trigger's
 * request layer; an accepted one is enqueued in the store, under its dedupe key when the
 * workflow has one, and is acknowledged only once that enqueue is durable: 202 with the new
 * run's id, or 200 with the first run's id for a redelivery.
 */
import type { Clock } from '../engine/clock.js';
import { newRunId } from '../engine/run-id.js';
import type { LoadedWorkflow } from '../engine/types.js';
import type { Scope } from '../expr/cel.js';
import { renderString, toCel } from '../expr/evaluate.js';
import { createWebhookHandler, type WebhookConfig, type WebhookHandler, type WebhookOutcome } from '../triggers/webhook-request.js';
import type { Enqueued, NewRun, Store } from '../store/store.js';
import { asRecord } from '../workflow/model.js';

/** One webhook path the daemon serves. */
export interface WebhookRoute {
  readonly workflow: LoadedWorkflow;
  readonly path: string;
  readonly handle: WebhookHandler;
  /** The trigger's `dedupe` expression, evaluated over the event. */
  readonly dedupe?: string;
}

/** A reply to send: status, headers and a JSON or text body. */
export interface Reply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

const SECRET_SCOPE: Scope = { contexts: ['secrets', 'env'], loopVars: [] };
const EVENT_SCOPE: Scope = { contexts: ['event'], loopVars: [] };

/**
 * The routes of the webhook-triggered workflows, with their signing secrets rendered from the
 * environment. A workflow whose webhook cannot be served (a missing secret, a bad setting) is
 * a problem, named, and gets no route: it must not answer 401 to every delivery unnoticed.
 */
export function webhookRoutes(workflows: readonly LoadedWorkflow[], env: Readonly<Record<string, string | undefined>>): { routes: Map<string, WebhookRoute>; problems: string[] } {
  const routes = new Map<string, WebhookRoute>();
  const problems: string[] = [];
  for (const workflow of workflows) {
    const webhook = asRecord(asRecord(workflow.value.trigger)?.webhook);
    if (!webhook) continue;
    const path = String(webhook.path);
    const signature = asRecord(webhook.signature);
    let config: WebhookConfig = { path, ...(typeof webhook.method === 'string' ? { method: webhook.method as WebhookConfig['method'] } : {}) };
    if (signature) {
      const secret = renderSecret(String(signature.secret ?? ''), workflow, env);
      if (!secret.ok) {
        problems.push(`${workflow.file}: webhook ${path}: ${secret.message}`);
        continue;
      }
      config = { ...config, signature: { ...(signature as unknown as NonNullable<WebhookConfig['signature']>), secret: secret.value } };
    }
    const setup = createWebhookHandler(config);
    if (!setup.ok) {
      problems.push(`${workflow.file}: webhook ${path}: ${setup.message}`);
      continue;
    }
    routes.set(path, { workflow, path, handle: setup.handle, ...(typeof webhook.dedupe === 'string' ? { dedupe: webhook.dedupe } : {}) });
  }
  return { routes, problems };
}

function renderSecret(template: string, workflow: LoadedWorkflow, env: Readonly<Record<string, string | undefined>>): { ok: true; value: string } | { ok: false; message: string } {
  const declared = Array.isArray(workflow.value.secrets) ? workflow.value.secrets.map(String) : [];
  const secrets = new Map<string, string>();
  for (const name of declared) {
    const value = Object.hasOwn(env, name) ? env[name] : undefined;
    if (value !== undefined && value !== '') secrets.set(name, value);
  }
  try {
    const value = renderString(template, SECRET_SCOPE, { secrets, env: new Map() });
    if (typeof value !== 'string' || value === '') return { ok: false, message: 'its signing secret is empty' };
    return { ok: true, value };
  } catch {
    const named = [...template.matchAll(/secrets\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!).filter((n) => !secrets.has(n));
    return { ok: false, message: `its signing secret is not set (${named.map((n) => `\`${n}\``).join(', ') || 'check `signature.secret`'})` };
  }
}

/**
 * Where a delivery without a dedupe key goes when the store has a local intake spool
 * (store/sqlite/intake-spool.ts): there, durably, at the cost of one append; the store adopts
 * it as a queued run when a runner is free. A keyed delivery always goes to the store, which
 * alone can say whether its key was seen.
 */
export interface Spool {
  append(run: NewRun, now: number): Promise<Enqueued>;
}

/** What one webhook request becomes: refused, answered, or a durably enqueued run. */
export async function intake(
  route: WebhookRoute, request: { method: string; headers: Record<string, string | string[] | undefined>; body: Uint8Array }, store: Store, clock: Clock, spool?: Spool,
): Promise<Reply> {
  const now = clock.now();
  const outcome: WebhookOutcome = route.handle({ method: request.method, headers: request.headers, body: request.body, now });
  if (outcome.kind === 'refuse') return { status: outcome.status, headers: { 'content-type': 'text/plain; charset=utf-8', ...outcome.headers }, body: `${outcome.reason}\n` };
  if (outcome.kind === 'reply') return { status: outcome.status, headers: { ...outcome.headers }, body: outcome.body };
  let key: string | undefined;
  if (route.dedupe !== undefined) {
    try {
      const value = renderString(route.dedupe, EVENT_SCOPE, { event: toCel(outcome.event) });
      if (value !== null && value !== '') key = typeof value === 'string' ? value : JSON.stringify(value);
    } catch (error) {
      return json(422, { error: `the dedupe key could not be read from this delivery: ${error instanceof Error ? error.message : String(error)}` });
    }
  }
  const wf = route.workflow;
  const run: NewRun = {
    id: newRunId(now), workflow: wf.name, workflowVersion: wf.version, trigger: 'webhook', event: outcome.event, receivedAt: outcome.receivedAt,
    ...(key !== undefined ? { key: { kind: 'dedupe', key } } : {}),
  };
  const enqueued = key === undefined && spool !== undefined ? await spool.append(run, now) : await store.enqueueRun(run, now);
  return enqueued.created ? json(202, { run_id: enqueued.id }) : json(200, { run_id: enqueued.id, duplicate: true });
}

function json(status: number, body: unknown): Reply {
  return { status, headers: { 'content-type': 'application/json' }, body: `${JSON.stringify(body)}\n` };
}
