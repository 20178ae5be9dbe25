/**
 * What happens when a run fails: its owner is told through the workflow's `on_error.escalate`
 * connection (the run ends `escalated` when that message is delivered, `failed` otherwise), and
 * its `on_error.steps` run. Every way a run can fail goes through here, a step's failure, a
 * journal that cannot be written, or a run abandoned after its daemon crashed too often, so
 * the owner hears of each the same way.
 */
import { NOTIFY_TIMEOUT_MS } from '../connectors/deadline.js';
import { renderValue, toCel } from '../expr/evaluate.js';
import type { ErrorInfo, RunStatus } from '../store/run-log.js';
import { asRecord } from '../workflow/model.js';
import { callConnector } from './calls.js';
import type { RunState } from './run-state.js';
import { runList } from './step-dispatch.js';
import { durationMs, StepFailure } from './step-state.js';
import type { Abandon, RunResult } from './types.js';

/** How a failure was handled: the run's final status and, when it escalated, how that went. */
export interface HandledFailure {
  readonly status: RunStatus;
  readonly escalation?: RunResult['escalation'];
}

/** Escalates (when the workflow or the failure asks) and runs the recovery steps. */
export async function handleFailure(run: RunState, failure: StepFailure, error: ErrorInfo): Promise<HandledFailure> {
  const onError = asRecord(run.req.workflow.value.on_error);
  const escalate = asRecord(onError?.escalate);
  let status: RunStatus = 'failed';
  let escalation: RunResult['escalation'];
  run.context = { ...run.context, error: toCel({ message: error.message, step: error.step ?? '' }) };
  if (escalate || failure.mode === 'escalate') {
    escalation = await escalateToOwner(run, escalate, error);
    if (escalation.delivered) status = 'escalated';
  }
  const recovery = onError?.steps;
  if (Array.isArray(recovery)) {
    run.stopped = false;
    try {
      await runList(run, recovery, run.topFrame('on_error'));
    } catch {
      // A failing recovery step is journaled like any step; the run keeps its first error.
    }
  }
  return { status, ...(escalation ? { escalation } : {}) };
}

/**
 * Fails a run its caller gave up on, without running a workflow step: as any failure, with
 * the reason as its error and the owner told (asked for even when the workflow names no
 * escalation connection, so the log says plainly that nobody could be reached). When an
 * earlier give-up was itself cut short by a crash, nothing is called again.
 */
export async function abandonRun(run: RunState, abandon: Abandon): Promise<HandledFailure & { readonly error: ErrorInfo }> {
  const error: ErrorInfo = { message: run.req.masker.mask(abandon.reason) };
  if (abandon.escalate) return { ...(await handleFailure(run, new StepFailure(abandon.reason, undefined, 'escalate'), error)), error };
  const uses = asRecord(asRecord(run.req.workflow.value.on_error)?.escalate)?.uses;
  const via = typeof uses === 'string' && uses !== '' ? uses : 'none';
  const deliveryError = 'an earlier attempt to give this run up was cut short by a crash too, so the owner is not called again';
  run.record({ type: 'escalation', via, delivered: false, error, delivery_error: deliveryError });
  return { status: 'failed', escalation: { via, delivered: false, delivery_error: deliveryError }, error };
}

/** Tells the owner through the workflow's escalation connection. Never throws. */
async function escalateToOwner(run: RunState, config: Readonly<Record<string, unknown>> | undefined, error: ErrorInfo): Promise<NonNullable<RunResult['escalation']>> {
  const uses = typeof config?.uses === 'string' ? config.uses : '';
  let ackFields: Record<string, unknown> = {};
  const note = (delivered: boolean, deliveryError?: string) => {
    run.record({ type: 'escalation', ...(error.step ? { step: error.step } : {}), via: uses || 'none', delivered, error, ...(deliveryError ? { delivery_error: deliveryError } : {}), ...ackFields });
    return { via: uses || 'none', delivered, ...(deliveryError ? { delivery_error: deliveryError } : {}) };
  };
  if (!config || uses === '') return note(false, 'the workflow has no on_error.escalate connection to reach its owner');
  const req = run.req;
  try {
    const ack = await openAck(run, config, error);
    ackFields = ack.fields;
    run.context = { ...run.context, escalation: ack.context };
    const params = asRecord(renderValue(config.with ?? {}, run.scope([]), run.context)) ?? {};
    const withBody = params.json !== undefined || params.form !== undefined || params.body !== undefined ? params : {
      ...params,
      json: {
        text: `flux: workflow ${req.workflow.name} ${error.step ? `failed at step ${error.step}` : 'failed'}: ${error.message}${ack.context.ack_url !== '' ? ` (acknowledge by ${ack.context.due_at}: ${ack.context.ack_url})` : ''}`,
        workflow: req.workflow.name, owner: req.workflow.owner, run_id: req.runId, step: error.step ?? null, error: error.message,
        event: req.event ?? null,
        ...(ack.context.ack_url !== '' ? { ack_url: ack.context.ack_url, ack_due_at: ack.context.due_at } : {}),
      },
    };
    // Not tied to the run's signal (a failed run still tells its owner), but bounded: a hanging
    // chat service must not keep the run from recording its end.
    const outcome = await callConnector(run, uses, withBody, `${req.runId}:escalation`, undefined, new AbortController().signal, NOTIFY_TIMEOUT_MS);
    return outcome.ok ? note(true) : note(false, outcome.error?.message ?? 'the escalation call failed');
  } catch (e) {
    return note(false, e instanceof Error ? e.message : String(e));
  }
}

/** What an escalation's acknowledgement adds: to the `escalation` record, and to expressions. */
interface OpenedAck {
  readonly fields: Record<string, unknown>;
  readonly context: { readonly ack_url: string; readonly ack_within: string; readonly due_at: string };
}

/**
 * Opens the acknowledgement an escalation with `ack_within` asks for, through the caller's
 * hook (the daemon's store and link key). Without the hook (`flux run`), or when it fails, the
 * owner is still told, without a link, and the record says why there is none.
 */
async function openAck(run: RunState, config: Readonly<Record<string, unknown>>, error: ErrorInfo): Promise<OpenedAck> {
  const within = typeof config.ack_within === 'string' ? config.ack_within : undefined;
  if (within === undefined) return { fields: {}, context: { ack_url: '', ack_within: '', due_at: '' } };
  const escalatedAt = run.req.clock.now();
  const ackDueAt = escalatedAt + durationMs(within);
  const due = new Date(ackDueAt).toISOString();
  if (!run.req.openAck) {
    const why = 'flux run has no daemon to take an acknowledgement or make the `then` call; run the workflow under flux daemon for both';
    return { fields: { ack_within: within, ack_unavailable: why }, context: { ack_url: '', ack_within: within, due_at: due } };
  }
  try {
    // A replayed attempt gets the escalation the first one opened, and its deadline.
    const opened = await run.req.openAck({ runId: run.req.runId, error, escalatedAt, ackDueAt, hasThen: asRecord(config.then) !== undefined });
    const dueAt = new Date(opened.ackDueAt).toISOString();
    return { fields: { ack_within: within, ack_due_at: dueAt, ack_id: run.req.runId }, context: { ack_url: opened.url, ack_within: within, due_at: dueAt } };
  } catch (e) {
    const why = `the acknowledgement could not be opened: ${e instanceof Error ? e.message : String(e)}`;
    return { fields: { ack_within: within, ack_unavailable: why }, context: { ack_url: '', ack_within: within, due_at: due } };
  }
}
