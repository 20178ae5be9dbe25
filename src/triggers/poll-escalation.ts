/**
 * Telling a poll workflow's owner that its polls keep failing, through the workflow's
 * `on_error.escalate` connection, as a failed run tells it (engine/failure.ts). The daemon's
 * poller calls this once per run of failures (the store decides which call, `failPoll`).
 * Expressions in `with` see `error` (the poll's last error, `step` empty), the workflow, env
 * and secrets; `event` is empty and `steps` has nothing, since no run is involved. A body
 * that cannot be rendered so (it reads `event.id`) is replaced by flux's own message.
 */
import { NOTIFY_TIMEOUT_MS } from '../connectors/deadline.js';
import { renderValue, toCel } from '../expr/evaluate.js';
import type { ContextName, Scope } from '../expr/cel.js';
import { asRecord } from '../workflow/model.js';
import { callOperation, pollContext, type PollDeps } from './poll.js';

const SCOPE: Scope = { contexts: ['event', 'steps', 'secrets', 'env', 'run', 'workflow', 'error'] satisfies ContextName[], loopVars: [] };

/** How the telling went: through which connection, and whether it was delivered. */
export interface PollEscalation {
  readonly via: string;
  readonly delivered: boolean;
  readonly error?: string;
}

/** Tells the owner that `failures` polls in a row failed, the last with `message`. Never throws. */
export async function escalatePollFailures(
  d: Pick<PollDeps, 'workflow' | 'connectors' | 'secrets' | 'environment' | 'masker'>, failures: number, message: string,
): Promise<PollEscalation> {
  const config = asRecord(asRecord(d.workflow.value.on_error)?.escalate);
  const uses = typeof config?.uses === 'string' ? config.uses : '';
  if (!config || uses === '') return { via: 'none', delivered: false, error: 'the workflow has no on_error.escalate connection to reach its owner' };
  const text = `flux: polling for workflow ${d.workflow.name} failed ${failures} times in a row: ${message}`;
  try {
    const ctx = { ...pollContext({ ...d, cursor: null }), event: toCel({}), steps: new Map(), error: toCel({ message: `${failures} polls in a row failed: ${message}`, step: '' }) };
    const raw = asRecord(config.with) ?? {};
    let params: Record<string, unknown>;
    try {
      params = asRecord(renderValue(raw, SCOPE, ctx)) ?? {};
    } catch {
      // A message written for failed runs may read `event` or `steps`, which a poll has not:
      // the owner is told with flux's own message instead of not at all.
      const { json: _json, form: _form, body: _body, ...rest } = raw;
      params = asRecord(renderValue(rest, SCOPE, ctx)) ?? {};
    }
    const withBody = params.json !== undefined || params.form !== undefined || params.body !== undefined ? params : {
      ...params, json: { text, workflow: d.workflow.name, owner: d.workflow.owner, failures, error: message },
    };
    const outcome = await callOperation(d, uses, withBody, ctx, { signal: new AbortController().signal, key: `poll:${d.workflow.name}:escalation`, timeoutMs: NOTIFY_TIMEOUT_MS });
    return outcome.ok ? { via: uses, delivered: true } : { via: uses, delivered: false, error: d.masker.mask(outcome.error?.message ?? 'the escalation call failed') };
  } catch (e) {
    return { via: uses, delivered: false, error: d.masker.mask(e instanceof Error ? e.message : String(e)) };
  }
}
