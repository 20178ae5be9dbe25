/**
 * Running a workflow once: check the event and secrets, run the steps in order (if, switch,
 * foreach, parallel, set, wait, wait_for, emit, fail, and connector calls with retries and
 * timeouts), and on failure escalate to the owner and run the recovery steps. Every step's
 * outcome is journaled as it happens, and every run ends with a recorded terminal state.
 */
import { createHash } from 'node:crypto';
import { resolveUses } from '../connectors/index.js';
import { DEFAULT_ATTEMPT_TIMEOUT_MS, type ConnectionConfig } from '../connectors/runtime.js';
import type { ContextName, Scope } from '../expr/cel.js';
import { evaluateCondition, ExpressionError, renderString, renderValue, toCel, ValueTooDeep, type CelContext } from '../expr/evaluate.js';
import { capOutput, RUN_LOG_VERSION, type ErrorInfo, type RecordBase, type RunRecord, type RunStatus, type StepStatus } from '../store/run-log.js';
import { exceedsBounds, MAX_EVENT_BYTES, MAX_JSON_DEPTH } from '../limits/json.js';
import { asRecord, type RawStep } from '../workflow/model.js';
import { prepareRun } from './prepare.js';
import { retryDelay, retryPolicy } from './retry.js';
import { Cancelled, durationMs, RAW, StepFailure, stepView, Suspended, toFailure } from './step-state.js';
import { durableWait, durableWaitFor, waitEnd, waitForStep, waitStep, type DurableWaitAt } from './waits.js';
import { stepKey, type JournaledStep, type RunRequest, type RunResult, type StepSummary } from './types.js';

/** Record fields that can carry data from outside, and so secrets: masked before writing. */
const MASKED_FIELDS = new Set(['output', 'data', 'error', 'delivery_error']);

/** How long an escalation call may take unless its connection sets a timeout. */
const ESCALATION_TIMEOUT_MS = 30_000;

/**
 * How long the step loop may run without giving the event loop a turn. Steps such as `set` and
 * `if` are synchronous, and a run of them chains only microtasks: without a yield, a signal
 * handler (Ctrl-C) would not run until the whole run had finished.
 */
const YIELD_AFTER_MS = 15;

const CONTEXTS: readonly ContextName[] = ['event', 'steps', 'secrets', 'env', 'run', 'workflow', 'error', 'index', 'response'];

/** Where a list of steps runs: its path prefix, loop indexes, loop variables and steps map. */
interface Frame {
  readonly path: string;
  readonly index: readonly number[];
  readonly loopVars: Readonly<Record<string, unknown>>;
  /**
   * Finished steps by id, as expressions read them. A Map, not an object: a step may be called
   * `constructor`, and CEL must see that as a key, not as the object's class.
   */
  readonly steps: Map<string, unknown>;
  readonly top: boolean;
}

/** Runs a workflow once and returns its result; the run log holds every detail. */
export async function runWorkflow(req: RunRequest): Promise<RunResult> {
  return new Run(req).execute();
}

class Run {
  private readonly started: number;
  private readonly base: RecordBase;
  private readonly summaries: StepSummary[] = [];
  private readonly emitted: { event: string; data: unknown }[] = [];
  private readonly controller = new AbortController();
  private readonly random: () => number;
  private context: CelContext = {};
  private stopped = false;
  /** Set when the journal could not write a record: the run stops and fails with it. */
  private journalFailure: Error | undefined;
  /** The event delivered to this attempt has been taken by a wait_for (each is taken once). */
  private delivered = false;
  /** Journal writes of completed steps not yet confirmed; awaited before the next step. */
  private pendingJournal: Promise<void>[] = [];
  /** performance.now() when the step loop last yielded to the event loop (scheduling, not run time). */
  private lastYield = performance.now();
  private readonly scopes = new Map<string, Scope>();

  constructor(private readonly req: RunRequest) {
    this.started = req.clock.now();
    this.random = req.random ?? Math.random;
    const wf = req.workflow;
    this.base = {
      v: RUN_LOG_VERSION, type: '', ts: '', run_id: req.runId, workflow: wf.name, workflow_version: wf.version, owner: wf.owner, baseline: wf.baseline,
    };
    if (req.signal) {
      if (req.signal.aborted) this.controller.abort(req.signal.reason);
      else req.signal.addEventListener('abort', () => this.controller.abort(req.signal?.reason), { once: true });
    }
  }

  private get signal(): AbortSignal {
    return this.controller.signal;
  }

  private record(fields: Record<string, unknown> & { type: RunRecord['type'] }): void {
    // Only fields that can carry data from outside are masked: outputs and event data (keys too)
    // and error texts. Flux's own fields (status, ids, paths) stay exactly as written, whatever
    // a secret's value happens to be.
    const masked: Record<string, unknown> = { ...this.base, ts: new Date(this.req.clock.now()).toISOString() };
    for (const [k, v] of Object.entries(fields)) masked[k] = MASKED_FIELDS.has(k) ? this.req.masker.maskValue(v, { keys: k === 'output' || k === 'data' }) : v;
    const record = masked as unknown as RunRecord;
    try {
      this.req.journal.append(record);
    } catch (error) {
      // The record of the run cannot be kept (a full disk, a removed directory): going on
      // would do work nobody can audit. Stop every step now; the run fails with this reason
      // and its owner is told.
      if (!this.journalFailure) {
        this.journalFailure = error instanceof Error ? error : new Error(String(error));
        this.controller.abort(this.journalFailure);
      }
    }
    this.req.onRecord?.(record);
  }

  async execute(): Promise<RunResult> {
    const wf = this.req.workflow;
    // Outside data is bounded before anything reads it: a deep or huge event is refused whole.
    const refusal = this.req.refuse ?? exceedsBounds(this.req.event, { maxDepth: MAX_JSON_DEPTH, maxBytes: MAX_EVENT_BYTES }, 'the event');
    const attempt = this.req.attempt ?? 1;
    if (this.req.resume) this.record({ type: 'run.resumed', attempt, replayable: this.req.history?.size ?? 0 });
    else this.record({ type: 'run.started', trigger: this.req.trigger, event_sha256: eventSha256(this.req.event), file: wf.file, dry_run: this.req.dryRun === true });
    if (refusal !== undefined) return this.finish('rejected', { message: refusal });
    const rejection = this.prepare();
    if (rejection) return this.finish('rejected', { message: rejection });
    let status: RunStatus = 'succeeded';
    let error: ErrorInfo | undefined;
    let escalation: RunResult['escalation'];
    try {
      await this.runList(wf.value.steps, { path: '', index: [], loopVars: {}, steps: this.context.steps as Map<string, unknown>, top: true });
      await this.settleJournal();
    } catch (e) {
      if (e instanceof Suspended && !this.journalFailure) return this.wait(e);
      if (this.journalFailure) {
        const failure = new StepFailure(this.journalFailure.message, undefined);
        error = { message: this.req.masker.mask(failure.message) };
        const handled = await this.handleFailure(failure, error);
        status = handled.status;
        escalation = handled.escalation;
      } else if (e instanceof Cancelled || this.signal.aborted) {
        status = 'cancelled';
        error = { message: 'the run was cancelled' };
      } else {
        const failure = e instanceof StepFailure ? e : new StepFailure(e instanceof Error ? e.message : String(e), undefined);
        error = { message: this.req.masker.mask(failure.message), ...(failure.step ? { step: failure.step } : {}), ...(failure.httpStatus ? { http_status: failure.httpStatus } : {}) };
        const handled = await this.handleFailure(failure, error);
        status = handled.status;
        escalation = handled.escalation;
      }
    }
    return this.finish(status, error, escalation);
  }

  /** Checks the event and secrets and builds the expression context; returns why the run is refused. */
  private prepare(): string | undefined {
    let prepared: ReturnType<typeof prepareRun>;
    try {
      prepared = prepareRun(this.req, this.started);
    } catch (e) {
      // The event (or env) cannot cross into expressions; the CLI refuses such events earlier,
      // but other callers may not.
      if (e instanceof ValueTooDeep) return `the event cannot be read by expressions: ${e.message}`;
      throw e;
    }
    if (!prepared.ok) return prepared.rejection;
    this.context = prepared.context;
    return undefined;
  }

  /**
   * The attempt ends at a durable wait: once the journal holds the waiting entry, the run is
   * recorded as waiting (no run.finished: the run has not ended) and the caller is told until
   * when, and for what.
   */
  private async wait(s: Suspended): Promise<RunResult> {
    try {
      await this.settleJournal();
    } catch {
      return this.finish('failed', { message: this.journalFailure?.message ?? 'the run could not be journaled' });
    }
    const wakeAt = new Date(s.wakeAt).toISOString();
    this.record({ type: 'run.waiting', step: s.step, path: s.path, wake_at: wakeAt, ...(s.event !== undefined ? { event: s.event } : {}) });
    return { ...this.result('waiting', this.req.clock.now() - this.started), waiting: { step: s.step, key: s.key, path: s.path, wake_at: wakeAt, ...(s.event !== undefined ? { event: s.event } : {}) } };
  }

  private finish(status: RunStatus, error?: ErrorInfo, escalation?: RunResult['escalation']): RunResult {
    const duration = this.req.clock.now() - this.started;
    this.record({ type: 'run.finished', status, duration_ms: duration, ...(error ? { error } : {}) });
    // As in the records, only texts that can carry outside data are masked (step summaries'
    // errors were masked when they were recorded).
    const m = this.req.masker;
    return {
      ...this.result(status, duration),
      ...(error ? { error: { ...error, message: m.mask(error.message) } } : {}),
      ...(escalation ? { escalation: escalation.delivery_error !== undefined ? { ...escalation, delivery_error: m.mask(escalation.delivery_error) } : escalation } : {}),
    };
  }

  /** What every result of an attempt carries, finished or waiting; emitted data is outside data, masked. */
  private result(status: RunResult['status'], duration: number): RunResult {
    return {
      run_id: this.req.runId, workflow: this.req.workflow.name, workflow_version: this.req.workflow.version, status, duration_ms: duration,
      dry_run: this.req.dryRun === true, steps: this.summaries,
      emitted: this.emitted.map((e) => ({ event: e.event, data: this.req.masker.maskValue(e.data, { keys: true }) })),
    };
  }

  // -- failure handling ---------------------------------------------------------------------

  private async handleFailure(failure: StepFailure, error: ErrorInfo): Promise<{ status: RunStatus; escalation?: RunResult['escalation'] }> {
    const onError = asRecord(this.req.workflow.value.on_error);
    const escalate = asRecord(onError?.escalate);
    let status: RunStatus = 'failed';
    let escalation: RunResult['escalation'];
    this.context = { ...this.context, error: toCel({ message: error.message, step: error.step ?? '' }) };
    if (escalate || failure.mode === 'escalate') {
      escalation = await this.escalate(escalate, error);
      if (escalation.delivered) status = 'escalated';
    }
    const recovery = onError?.steps;
    if (Array.isArray(recovery)) {
      this.stopped = false;
      try {
        await this.runList(recovery, { path: 'on_error', index: [], loopVars: {}, steps: this.context.steps as Map<string, unknown>, top: false });
      } catch {
        // A failing recovery step is journaled like any step; the run keeps its first error.
      }
    }
    return { status, ...(escalation ? { escalation } : {}) };
  }

  /** Tells the owner through the workflow's escalation connection. Never throws. */
  private async escalate(config: Readonly<Record<string, unknown>> | undefined, error: ErrorInfo): Promise<NonNullable<RunResult['escalation']>> {
    const uses = typeof config?.uses === 'string' ? config.uses : '';
    const note = (delivered: boolean, deliveryError?: string) => {
      this.record({ type: 'escalation', ...(error.step ? { step: error.step } : {}), via: uses || 'none', delivered, error, ...(deliveryError ? { delivery_error: deliveryError } : {}) });
      return { via: uses || 'none', delivered, ...(deliveryError ? { delivery_error: deliveryError } : {}) };
    };
    if (!config || uses === '') return note(false, 'the workflow has no on_error.escalate connection to reach its owner');
    try {
      const scope = this.scope([]);
      const params = asRecord(renderValue(config.with ?? {}, scope, this.context)) ?? {};
      const withBody = params.json !== undefined || params.form !== undefined || params.body !== undefined ? params : {
        ...params,
        json: {
          text: `flux: workflow ${this.req.workflow.name} ${error.step ? `failed at step ${error.step}` : 'failed'}: ${error.message}`,
          workflow: this.req.workflow.name, owner: this.req.workflow.owner, run_id: this.req.runId, step: error.step ?? null, error: error.message,
          event: this.req.event ?? null,
        },
      };
      // Not tied to the run's signal (a failed run still tells its owner), but bounded: a hanging
      // chat service must not keep the run from recording its end.
      const outcome = await this.callConnector(uses, withBody, `${this.req.runId}:escalation`, undefined, new AbortController().signal, ESCALATION_TIMEOUT_MS);
      return outcome.ok ? note(true) : note(false, outcome.error?.message ?? 'the escalation call failed');
    } catch (e) {
      return note(false, e instanceof Error ? e.message : String(e));
    }
  }

  // -- steps --------------------------------------------------------------------------------

  private scope(loopVars: readonly string[]): Scope {
    const key = loopVars.join(',');
    let s = this.scopes.get(key);
    if (!s) {
      s = { contexts: CONTEXTS, loopVars };
      this.scopes.set(key, s);
    }
    return s;
  }

  private contextFor(frame: Frame): CelContext {
    const ctx: CelContext = { ...this.context, steps: frame.steps };
    for (const [k, v] of Object.entries(frame.loopVars)) ctx[k] = v;
    if (frame.index.length > 0) ctx.index = BigInt(frame.index[frame.index.length - 1]!);
    return ctx;
  }

  private async runList(list: unknown, frame: Frame): Promise<void> {
    if (!Array.isArray(list)) return;
    for (const raw of list) {
      if (this.signal.aborted) throw new Cancelled();
      if (this.stopped) return;
      const step = asRecord(raw);
      if (step) await this.runStep(step, frame);
      if (this.pendingJournal.length > 0) await this.settleJournal();
      if (performance.now() - this.lastYield >= YIELD_AFTER_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        this.lastYield = performance.now();
      }
      // Checked after every step too, so a cancel that arrives during the last step is not lost.
      if (this.signal.aborted) throw new Cancelled();
    }
  }

  private async runStep(step: RawStep, frame: Frame): Promise<void> {
    const id = String(step.id);
    const path = frame.path ? `${frame.path}/${id}` : id;
    const journaled = this.req.history?.get(stepKey(id, frame.index));
    if (journaled && journaled.status !== 'waiting') return this.replay({ ...journaled, status: journaled.status }, frame);
    const scope = this.scope(Object.keys(frame.loopVars));
    const ctx = this.contextFor(frame);
    const startedNow = this.req.clock.now();
    const indexField = frame.index.length > 0 ? { index: frame.index } : {};
    const key = [this.req.runId, id, ...frame.index].join(':');

    let run = true;
    if (step.if !== undefined) {
      try {
        run = evaluateCondition(step.if, scope, ctx);
      } catch (e) {
        if (this.req.dryRun) run = true; // depends on a response that a dry run does not have
        else return this.fail(step, frame, path, startedNow, 1, toFailure(e, id));
      }
    }
    if (!run) {
      frame.steps.set(id, stepView(null, 'skipped'));
      this.record({ type: 'step.finished', step: id, path, ...indexField, status: 'skipped', duration_ms: 0, attempt: 0 });
      this.journal({ key: stepKey(id, frame.index), step: id, path, ...indexField, status: 'skipped', output: null, attempts: 0, duration_ms: 0 });
      if (frame.top) this.summaries.push({ step: id, path, status: 'skipped', duration_ms: 0, attempts: 0 });
      return;
    }

    // A durable wait resumed by a later attempt was recorded as started by the attempt that began it.
    if (journaled === undefined) this.record({ type: 'step.started', step: id, path, ...indexField, attempt: 1, idempotency_key: key });
    const started = journaled?.started_at ?? startedNow;
    let output: unknown = null;
    let attempts = 1;
    let httpStatus: number | undefined;
    let callFailure: StepFailure | undefined;
    try {
      if (typeof step.uses === 'string') {
        const r = await this.runUses(step, id, path, frame, scope, ctx, key);
        callFailure = r.failure;
        output = r.output;
        attempts = r.attempts;
        httpStatus = r.status;
      } else if (step.set !== undefined) {
        output = renderValue(step.set, scope, ctx);
      } else if (step.switch !== undefined) {
        output = await this.runSwitch(asRecord(step.switch) ?? {}, frame, path, scope, ctx);
      } else if (step.foreach !== undefined) {
        output = await this.runForeach(asRecord(step.foreach) ?? {}, id, frame, path, scope, ctx);
      } else if (step.parallel !== undefined) {
        output = await this.runParallel(asRecord(step.parallel) ?? {}, frame, path);
      } else if (step.wait !== undefined) {
        output = this.req.durableWaits
          ? durableWait(this.waitAt(id, path, frame, started), (start) => waitEnd(step.wait, start, (text) => renderString(text, scope, ctx)))
          : await this.runWait(step.wait, scope, ctx);
      } else if (step.wait_for !== undefined) {
        const waitFor = asRecord(step.wait_for) ?? {};
        output = this.req.durableWaits
          ? durableWaitFor(this.waitAt(id, path, frame, started), waitFor, this.deliveredTo(waitFor, scope, ctx))
          : await this.runWaitFor(waitFor, id, scope, ctx);
      } else if (step.emit !== undefined) {
        const emit = asRecord(step.emit) ?? {};
        const data = renderValue(emit.data ?? null, scope, ctx);
        const event = String(emit.event);
        this.emitted.push({ event, data });
        this.record({ type: 'event.emitted', step: id, path, event, data });
        output = { event, data };
      } else if (step.fail !== undefined) {
        throw new StepFailure(String(renderString(String(step.fail), scope, ctx)), id);
      }
    } catch (e) {
      if (e instanceof Suspended) throw e;
      if (e instanceof Cancelled || this.signal.aborted) throw new Cancelled();
      if (this.req.dryRun && e instanceof ExpressionError) {
        // A dry run has no responses, so expressions that read them cannot be evaluated: the
        // step would run, with a value that is only known for real.
        const unresolved = { dry_run: true, unresolved: e.message };
        frame.steps.set(id, stepView(unresolved, 'succeeded'));
        this.finishStep(step, frame, path, started, 'succeeded', attempts, unresolved);
        return;
      }
      const failure = toFailure(e, id);
      if (failure.step !== id) {
        // A nested step failed and stopped its container: record the container, then pass the
        // failure on (naming the nested step) unless the container itself says continue.
        const continued = step.on_error === 'continue';
        frame.steps.set(id, stepView(null, 'failed', failure.message));
        this.finishStep(step, frame, path, started, 'failed', attempts, null, failure.message, undefined, continued);
        if (continued) {
          this.stopped = false;
          return;
        }
        throw failure;
      }
      return this.fail(step, frame, path, started, attempts, failure, httpStatus);
    }
    // A failed call is handled here, outside the try: fail() throws to stop the run, and that
    // must not be caught above and recorded a second time.
    if (callFailure) return this.fail(step, frame, path, started, attempts, callFailure, httpStatus, output);
    frame.steps.set(id, stepView(output, 'succeeded'));
    this.finishStep(step, frame, path, started, 'succeeded', attempts, output, undefined, httpStatus);
  }

  private fail(step: RawStep, frame: Frame, path: string, started: number, attempts: number, failure: StepFailure, httpStatus?: number, output: unknown = null): void {
    const id = String(step.id);
    const mode = step.on_error === 'continue' ? 'continue' : step.on_error === 'escalate' ? 'escalate' : failure.mode;
    frame.steps.set(id, stepView(output, 'failed', failure.message));
    this.finishStep(step, frame, path, started, 'failed', attempts, output, failure.message, httpStatus ?? failure.httpStatus, mode === 'continue');
    if (mode === 'continue') return;
    this.stopped = true;
    throw new StepFailure(failure.message, failure.step ?? id, mode === 'escalate' ? 'escalate' : 'fail', httpStatus ?? failure.httpStatus);
  }

  /**
   * A step an earlier attempt completed: its outcome is what expressions see, and nothing runs
   * or is recorded again (its records are in the run log already). A journaled failure is one
   * the run went on past (`on_error: continue`): a failure that stopped the run is not replayed,
   * so a retried run starts again at that step.
   */
  private replay(j: JournaledStep & { status: StepStatus }, frame: Frame): void {
    frame.steps.set(j.step, stepView(j.output, j.status, j.error));
    if (frame.top) {
      this.summaries.push({
        step: j.step, path: j.path, status: j.status, duration_ms: j.duration_ms, attempts: j.attempts, replayed: true,
        ...(j.http_status !== undefined ? { http_status: j.http_status } : {}), ...(j.error ? { error: this.req.masker.mask(j.error) } : {}), ...(j.continued ? { continued: true } : {}),
      });
    }
  }

  /** Hands a completed step to the durable journal, when there is one; see settleJournal. */
  private journal(entry: JournaledStep): void {
    const write = this.req.onStepCompleted;
    if (write) this.pendingJournal.push(Promise.resolve().then(() => write(entry)));
  }

  /** Waits for the journal writes of completed steps; a failed write stops the run. */
  private async settleJournal(): Promise<void> {
    if (this.pendingJournal.length === 0) return;
    const writes = this.pendingJournal;
    this.pendingJournal = [];
    try {
      await Promise.all(writes);
    } catch (error) {
      if (!this.journalFailure) {
        this.journalFailure = new Error(`cannot journal the run's progress: ${error instanceof Error ? error.message : String(error)}`);
        this.controller.abort(this.journalFailure);
      }
      throw new Cancelled();
    }
  }

  private finishStep(step: RawStep, frame: Frame, path: string, started: number, status: StepStatus, attempts: number, output: unknown, error?: string, httpStatus?: number, continued?: boolean): void {
    const id = String(step.id);
    const duration = this.req.clock.now() - started;
    if (status !== 'failed' || continued) {
      this.journal({
        key: stepKey(id, frame.index), step: id, path, ...(frame.index.length > 0 ? { index: frame.index } : {}), status, output, attempts, duration_ms: duration,
        ...(error !== undefined ? { error } : {}), ...(httpStatus !== undefined ? { http_status: httpStatus } : {}), ...(continued ? { continued: true } : {}),
      });
    }
    // The preview of a capped output is masked before it is cut (record() masks it again).
    const capped = capOutput(output, undefined, (text) => this.req.masker.mask(text));
    this.record({
      type: 'step.finished', step: id, path, ...(frame.index.length > 0 ? { index: frame.index } : {}), status, duration_ms: duration, attempt: attempts,
      ...(httpStatus !== undefined ? { http_status: httpStatus } : {}),
      ...(status === 'succeeded' || output !== null ? { output: capped.output } : {}), ...(capped.truncated ? { output_truncated: true } : {}),
      ...(error ? { error: { message: this.req.masker.mask(error), step: id, ...(httpStatus !== undefined ? { http_status: httpStatus } : {}) } } : {}),
      ...(continued ? { continued: true } : {}),
    });
    if (frame.top) {
      this.summaries.push({
        step: id, path, status, duration_ms: duration, attempts, ...(httpStatus !== undefined ? { http_status: httpStatus } : {}),
        ...(error ? { error: this.req.masker.mask(error) } : {}), ...(continued ? { continued: true } : {}),
      });
    }
  }

  private async runUses(step: RawStep, id: string, path: string, frame: Frame, scope: Scope, ctx: CelContext, key: string): Promise<{ output: unknown; attempts: number; status?: number; failure?: StepFailure }> {
    const params = asRecord(renderValue(step.with ?? {}, scope, ctx)) ?? {};
    const policy = retryPolicy(step.retry);
    const timeoutMs = typeof step.timeout === 'string' ? durationMs(step.timeout) : undefined;
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.callConnector(String(step.uses), params, key, timeoutMs, this.signal);
      if (this.signal.aborted) throw new Cancelled();
      const status = outcome.status !== undefined ? { status: outcome.status } : {};
      if (outcome.ok) return { output: outcome.output, attempts: attempt, ...status };
      const err = outcome.error ?? { message: 'the call failed', retryable: false };
      const retryable = err.retryable || (err.status !== undefined && policy.on.includes(err.status));
      if (!retryable || attempt >= policy.attempts) {
        // The failed response stays on the step's output, for on_error: continue and for the log.
        return { output: outcome.output, attempts: attempt, ...status, failure: new StepFailure(err.message, id, 'fail', err.status) };
      }
      const delay = retryDelay(policy, attempt, this.random, err.retryAfterMs);
      this.record({
        type: 'step.retry', step: id, path, ...(frame.index.length > 0 ? { index: frame.index } : {}), attempt, delay_ms: delay,
        error: { message: this.req.masker.mask(err.message), step: id, ...(err.status !== undefined ? { http_status: err.status } : {}) },
      });
      await this.req.clock.sleep(delay, this.signal).catch(() => {
        throw new Cancelled();
      });
    }
  }

  /**
   * Calls `uses` with rendered parameters; a failed call is a value, not an exception. Every
   * attempt is bounded: by the step's `timeout`, else its connection's, else `fallbackTimeoutMs`.
   */
  private async callConnector(uses: string, params: Readonly<Record<string, unknown>>, key: string, timeoutMs: number | undefined, signal: AbortSignal, fallbackTimeoutMs = DEFAULT_ATTEMPT_TIMEOUT_MS) {
    const wf = this.req.workflow.value;
    const connections = asRecord(wf.connections) ?? {};
    const resolved = resolveUses(uses, Object.fromEntries(Object.entries(connections).map(([k, v]) => [k, { type: String(asRecord(v)?.type ?? 'http') }])));
    if (!resolved.ok) return { ok: false, output: null, error: { message: resolved.message, retryable: false } };
    const runtime = this.req.connectors[resolved.connector.name];
    if (!runtime) return { ok: false, output: null, error: { message: `connector \`${resolved.connector.name}\` is not available in this run`, retryable: false } };
    let connection: ConnectionConfig | undefined;
    if (resolved.connection) {
      const raw = asRecord(connections[resolved.connection]) ?? {};
      connection = renderValue(raw, this.scope([]), this.context) as unknown as ConnectionConfig;
      const connTimeout = typeof raw.timeout === 'string' ? durationMs(raw.timeout) : undefined;
      timeoutMs ??= connTimeout;
    }
    const operation = resolved.name.split('.').pop() ?? resolved.name;
    return runtime.call(
      { operation, params, ...(connection ? { connection } : {}) },
      { signal, idempotencyKey: key, masker: this.req.masker, dryRun: this.req.dryRun === true, timeoutMs: timeoutMs ?? fallbackTimeoutMs },
    );
  }

  private async runSwitch(sw: Readonly<Record<string, unknown>>, frame: Frame, path: string, scope: Scope, ctx: CelContext): Promise<unknown> {
    const cases = Array.isArray(sw.cases) ? sw.cases : [];
    for (let i = 0; i < cases.length; i++) {
      const c = asRecord(cases[i]) ?? {};
      if (evaluateCondition(c.if, scope, ctx)) {
        await this.runList(c.steps, { ...frame, path, top: false });
        return { case: i };
      }
    }
    if (sw.default !== undefined) {
      await this.runList(sw.default, { ...frame, path, top: false });
      return { case: 'default' };
    }
    return { case: null };
  }

  private async runForeach(fe: Readonly<Record<string, unknown>>, id: string, frame: Frame, path: string, scope: Scope, ctx: CelContext): Promise<unknown> {
    const items = Array.isArray(fe.items) ? fe.items : renderValue(fe.items, scope, ctx);
    if (!Array.isArray(items)) throw new StepFailure(`foreach items must be a list, not ${items === null ? 'null' : typeof items}`, id);
    const as = typeof fe.as === 'string' ? fe.as : 'item';
    const concurrency = Math.max(1, Math.min(typeof fe.concurrency === 'number' ? fe.concurrency : 1, items.length || 1));
    const innerIds = (Array.isArray(fe.steps) ? fe.steps : []).map((s) => String(asRecord(s)?.id));
    const results: unknown[] = new Array(items.length);
    let next = 0;
    let done = 0;
    let failure: unknown;
    const worker = async () => {
      while (failure === undefined && !this.signal.aborted) {
        const i = next++;
        if (i >= items.length) return;
        const steps = new Map(frame.steps);
        const itemFrame: Frame = { path, index: [...frame.index, i], loopVars: { ...frame.loopVars, [as]: toCel(items[i]) }, steps, top: false };
        try {
          await this.runList(fe.steps, itemFrame);
        } catch (e) {
          failure ??= e;
          return;
        }
        // Another item failed while this one ran and it stopped early: it does not count as done.
        if (innerIds.some((inner) => steps.get(inner) === frame.steps.get(inner) || steps.get(inner) === undefined)) return;
        const collected: Record<string, unknown> = {};
        for (const inner of innerIds) collected[inner] = (steps.get(inner) as Record<symbol, unknown> | undefined)?.[RAW] ?? null;
        results[i] = collected;
        done++;
        this.req.onProgress?.({ step: id, path, done, total: items.length });
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    if (this.signal.aborted) throw new Cancelled();
    if (failure !== undefined) throw failure;
    return results;
  }

  private async runParallel(par: Readonly<Record<string, unknown>>, frame: Frame, path: string): Promise<unknown> {
    const branches = Array.isArray(par.branches) ? par.branches : [];
    const settled = await Promise.allSettled(branches.map((b) => this.runList(asRecord(b)?.steps, { ...frame, path, top: false })));
    // A failure outweighs a branch that only waits: the run fails rather than sleeping on it.
    const rejected = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected').sort((a, b) => Number(a.reason instanceof Suspended) - Number(b.reason instanceof Suspended))[0];
    if (rejected) throw rejected.reason;
    return { branches: branches.length };
  }

  /** Where a durable wait stands: this step, its journal entry from earlier attempts, and how to journal its own. */
  private waitAt(id: string, path: string, frame: Frame, started: number): DurableWaitAt {
    const key = stepKey(id, frame.index);
    return {
      step: id, key, path, index: frame.index, started, now: this.req.clock.now(), journaled: this.req.history?.get(key),
      journal: (entry) => this.journal(entry),
    };
  }

  /** A durable wait_for takes the event delivered to this attempt (once) when it is the one it waits for and matches. */
  private deliveredTo(wf: Readonly<Record<string, unknown>>, scope: Scope, ctx: CelContext): { payload: unknown } | undefined {
    const delivered = this.req.deliver;
    if (!delivered || this.delivered || delivered.event !== String(wf.event)) return undefined;
    const matchScope = this.scope([...scope.loopVars, 'item']);
    if (wf.match !== undefined && !evaluateCondition(wf.match, matchScope, { ...ctx, item: toCel(delivered.payload) })) return undefined;
    this.delivered = true;
    return { payload: delivered.payload };
  }

  private async runWait(wait: unknown, scope: Scope, ctx: CelContext): Promise<unknown> {
    return waitStep(wait, { clock: this.req.clock, signal: this.signal, dryRun: this.req.dryRun === true, render: (text) => renderString(text, scope, ctx) });
  }

  private async runWaitFor(wf: Readonly<Record<string, unknown>>, id: string, scope: Scope, ctx: CelContext): Promise<unknown> {
    const matchScope = this.scope([...scope.loopVars, 'item']);
    const match = (payload: unknown) => wf.match === undefined || evaluateCondition(wf.match, matchScope, { ...ctx, item: toCel(payload) });
    return waitForStep(wf, id, match, { clock: this.req.clock, signal: this.signal, dryRun: this.req.dryRun === true, ...(this.req.events ? { events: this.req.events } : {}) });
  }
}

/**
 * SHA-256 of the event's JSON. An event nested too deeply for JSON.stringify (a RangeError) is
 * refused before any step runs; it gets the digest of the empty string, which no JSON text
 * has, so the run still starts and ends on record instead of crashing.
 */
function eventSha256(event: unknown): string {
  let text = '';
  try {
    text = JSON.stringify(event ?? null);
  } catch {
    // too deep to serialise: the empty text's digest marks it
  }
  return createHash('sha256').update(text).digest('hex');
}
