/**
 * Connector calls: a `uses` step's attempts with retries and back-off, and the one place a
 * connector is resolved and called (steps and escalation alike). A failed call is a value on
 * the outcome, never an exception, so the caller decides what it means for the run.
 */
import { connectorOf } from '../connectors/connection.js';
import { resolveUses } from '../connectors/index.js';
import { DEFAULT_ATTEMPT_TIMEOUT_MS, type CallOutcome, type ConnectionConfig } from '../connectors/runtime.js';
import type { Scope } from '../expr/cel.js';
import { renderValue, type CelContext } from '../expr/evaluate.js';
import { asRecord, type RawStep } from '../workflow/model.js';
import { retryDelay, retryPolicy } from './retry.js';
import type { Frame, RunState } from './run-state.js';
import { Cancelled, durationMs, StepFailure } from './step-state.js';

/** How a `uses` step ended: its output, how many attempts it took, its HTTP status and method, and its failure if it failed. */
export interface UsesOutcome {
  readonly output: unknown;
  readonly attempts: number;
  readonly status?: number;
  /** The HTTP method of the call, when the connector made (or built) one. */
  readonly method?: string;
  readonly failure?: StepFailure;
}

/**
 * Runs a `uses` step: attempts the call, retrying as its `retry` block says. The back-off's
 * jitter is drawn from `run.random` and only decides how long this attempt of the run sleeps;
 * see draws.ts for why it is not journaled for replay.
 */
export async function runUses(run: RunState, step: RawStep, id: string, path: string, frame: Frame, scope: Scope, ctx: CelContext, key: string): Promise<UsesOutcome> {
  const params = asRecord(renderValue(step.with ?? {}, scope, ctx)) ?? {};
  const policy = retryPolicy(step.retry);
  const timeoutMs = typeof step.timeout === 'string' ? durationMs(step.timeout) : undefined;
  for (let attempt = 1; ; attempt++) {
    const warn = (message: string): void => run.record({ type: 'step.warning', step: id, path, ...(frame.index.length > 0 ? { index: frame.index } : {}), attempt, message: run.req.masker.mask(message) });
    const outcome = await callConnector(run, String(step.uses), params, key, timeoutMs, run.signal, DEFAULT_ATTEMPT_TIMEOUT_MS, warn);
    if (run.signal.aborted) throw new Cancelled();
    const status = { ...(outcome.status !== undefined ? { status: outcome.status } : {}), ...(outcome.method !== undefined ? { method: outcome.method } : {}) };
    if (outcome.ok) return { output: outcome.output, attempts: attempt, ...status };
    const err = outcome.error ?? { message: 'the call failed', retryable: false };
    const retryable = err.retryable || (err.status !== undefined && policy.on.includes(err.status));
    if (!retryable || attempt >= policy.attempts) {
      // The failed response stays on the step's output, for on_error: continue and for the log.
      return { output: outcome.output, attempts: attempt, ...status, failure: new StepFailure(err.message, id, 'fail', err.status) };
    }
    const delay = retryDelay(policy, attempt, run.random, err.retryAfterMs);
    run.record({
      type: 'step.retry', step: id, path, ...(frame.index.length > 0 ? { index: frame.index } : {}), attempt, delay_ms: delay,
      error: { message: run.req.masker.mask(err.message), step: id, ...(err.status !== undefined ? { http_status: err.status } : {}) },
    });
    await run.req.clock.sleep(delay, run.signal).catch(() => {
      throw new Cancelled();
    });
  }
}

/**
 * Calls `uses` with rendered parameters; a failed call is a value, not an exception. Every
 * attempt is bounded: by the step's `timeout`, else its connection's, else `fallbackTimeoutMs`.
 */
export async function callConnector(
  run: RunState, uses: string, params: Readonly<Record<string, unknown>>, key: string, timeoutMs: number | undefined, signal: AbortSignal,
  fallbackTimeoutMs = DEFAULT_ATTEMPT_TIMEOUT_MS, warn?: (message: string) => void,
): Promise<CallOutcome> {
  const wf = run.req.workflow.value;
  const connections = asRecord(wf.connections) ?? {};
  const resolved = resolveUses(uses, Object.fromEntries(Object.entries(connections).map(([k, v]) => [k, { type: connectorOf(v) ?? 'http' }])));
  if (!resolved.ok) return { ok: false, output: null, error: { message: resolved.message, retryable: false } };
  const runtime = run.req.connectors[resolved.connector.name];
  if (!runtime) return { ok: false, output: null, error: { message: `connector \`${resolved.connector.name}\` is not available in this run`, retryable: false } };
  let connection: ConnectionConfig | undefined;
  if (resolved.connection) {
    const raw = asRecord(connections[resolved.connection]) ?? {};
    connection = renderValue(raw, run.scope([]), run.context) as unknown as ConnectionConfig;
    const connTimeout = typeof raw.timeout === 'string' ? durationMs(raw.timeout) : undefined;
    timeoutMs ??= connTimeout;
  }
  const operation = resolved.name.split('.').pop() ?? resolved.name;
  return runtime.call(
    { operation, params, ...(connection ? { connection } : {}) },
    { signal, idempotencyKey: key, masker: run.req.masker, dryRun: run.req.dryRun === true, timeoutMs: timeoutMs ?? fallbackTimeoutMs, ...(warn ? { warn } : {}) },
  );
}
