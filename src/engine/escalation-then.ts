/**
 * The second call of an escalation (`on_error.escalate.then`): made by the daemon, long after
 * the run ended, when the owner did not acknowledge within `ack_within`. It goes through the
 * workflow version's connections and secrets like any call of the run, and is recorded in the
 * run's log as `escalation.then`, one record per attempt. Its expressions see `error`,
 * `escalation` (the acknowledgement link, still valid, for the backup to use) and the run's
 * `event`, `env`, `secrets`, `run` and `workflow`.
 *
 * The call carries the idempotency key `<run id>:escalation.then` on every attempt: a daemon
 * that dies between the call and recording it makes it again, and a receiving service that
 * honours the key sees it once.
 */
import { NOTIFY_TIMEOUT_MS } from '../connectors/deadline.js';
import { renderValue, toCel } from '../expr/evaluate.js';
import type { ErrorInfo } from '../store/run-log.js';
import { asRecord } from '../workflow/model.js';
import { callConnector } from './calls.js';
import { prepareRun } from './prepare.js';
import { RunState } from './run-state.js';
import type { RunRequest } from './types.js';

/** What the daemon knows of the escalation whose `then` call is due. */
export interface ThenRequest extends Pick<RunRequest, 'workflow' | 'event' | 'trigger' | 'secrets' | 'environment' | 'connectors' | 'clock' | 'journal' | 'masker' | 'runId'> {
  readonly error: ErrorInfo;
  readonly escalatedAt: number;
  readonly ackDueAt: number;
  /** The acknowledgement link (still honoured), or empty. */
  readonly ackUrl: string;
  /** Which attempt of the call this is (1, then each retry). */
  readonly attempt: number;
  /** When a failed attempt is tried again, for the record. */
  readonly retryAt: number;
}

/** Makes the `then` call once and records it. Never throws: a failure is the value. */
export async function sendThen(r: ThenRequest): Promise<{ readonly ok: true } | { readonly ok: false; readonly error: string }> {
  const run = new RunState(r);
  const config = asRecord(asRecord(asRecord(r.workflow.value.on_error)?.escalate)?.then);
  const uses = typeof config?.uses === 'string' ? config.uses : '';
  const note = (delivered: boolean, deliveryError?: string) => {
    run.record({ type: 'escalation.then', via: uses || 'none', delivered, attempt: r.attempt, ...(deliveryError !== undefined ? { delivery_error: deliveryError, retry_at: new Date(r.retryAt).toISOString() } : {}) });
    return delivered ? { ok: true as const } : { ok: false as const, error: r.masker.mask(deliveryError ?? 'the then call failed') };
  };
  if (!config || uses === '') return note(false, 'the workflow version has no on_error.escalate.then call');
  try {
    const prepared = prepareRun(r, r.escalatedAt);
    if (!prepared.ok) return note(false, prepared.rejection);
    const within = asRecord(asRecord(r.workflow.value.on_error)?.escalate)?.ack_within;
    run.context = {
      ...prepared.context,
      error: toCel({ message: r.error.message, step: r.error.step ?? '' }),
      escalation: { ack_url: r.ackUrl, ack_within: typeof within === 'string' ? within : '', due_at: new Date(r.ackDueAt).toISOString() },
    };
    const params = asRecord(renderValue(config.with ?? {}, run.scope([]), run.context)) ?? {};
    const wf = r.workflow;
    const body = params.json !== undefined || params.form !== undefined || params.body !== undefined ? params : {
      ...params,
      json: {
        text: `flux: workflow ${wf.name} ${r.error.step ? `failed at step ${r.error.step}` : 'failed'}: ${r.error.message}; its owner ${wf.owner} did not acknowledge within ${String(within)}${r.ackUrl !== '' ? ` (acknowledge: ${r.ackUrl})` : ''}`,
        workflow: wf.name, owner: wf.owner, run_id: r.runId, step: r.error.step ?? null, error: r.error.message, escalated_at: new Date(r.escalatedAt).toISOString(),
        ...(r.ackUrl !== '' ? { ack_url: r.ackUrl } : {}),
      },
    };
    const outcome = await callConnector(run, uses, body, `${r.runId}:escalation.then`, undefined, new AbortController().signal, NOTIFY_TIMEOUT_MS);
    return outcome.ok ? note(true) : note(false, outcome.error?.message ?? 'the then call failed');
  } catch (e) {
    return note(false, e instanceof Error ? e.message : String(e));
  }
}
