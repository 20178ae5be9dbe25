/**
 * What one attempt of a run holds while it executes: the request, the records it writes, the
 * steps it has finished, and the flags that stop it. The engine's modules (step dispatch,
 * control flow, calls, waits, failure handling, journaling) each take this state instead of
 * being methods of one large class, so each concern lives in its own small file.
 */
import type { ContextName, Scope } from '../expr/cel.js';
import type { CelContext } from '../expr/evaluate.js';
import { RUN_LOG_VERSION, type RecordBase, type RunRecord } from '../store/run-log.js';
import type { EmittedEvent, RunRequest, StepSummary } from './types.js';

/** Record fields that can carry data from outside, and so secrets: masked before writing. */
const MASKED_FIELDS = new Set(['output', 'data', 'error', 'delivery_error', 'inputs']);

const CONTEXTS: readonly ContextName[] = ['event', 'steps', 'secrets', 'env', 'run', 'workflow', 'error', 'index', 'response', 'approval', 'escalation'];

/** Where a list of steps runs: its path prefix, loop indexes, loop variables and steps map. */
export interface Frame {
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

/** The mutable state of one attempt of a run, shared by the engine's modules. */
export class RunState {
  readonly started: number;
  readonly summaries: StepSummary[] = [];
  readonly emitted: { event: string; data: unknown }[] = [];
  readonly controller = new AbortController();
  readonly random: () => number;
  context: CelContext = {};
  /** A step failed and stopped the run: the lists still running return without another step. */
  stopped = false;
  /** Set when the journal could not write a record: the run stops and fails with it. */
  journalFailure: Error | undefined;
  /** Which of the events delivered to this attempt a wait_for has taken (each is taken once). */
  readonly taken = new Set<number>();
  /** What emit steps emitted, by step key, until their journal entry carries it (see journal()). */
  readonly emitsFor = new Map<string, EmittedEvent[]>();
  /** Journal writes of completed steps not yet confirmed; awaited before the next step. */
  pendingJournal: Promise<void>[] = [];
  /** performance.now() when the step loop last yielded to the event loop (scheduling, not run time). */
  lastYield = performance.now();
  private readonly base: RecordBase;
  private readonly scopes = new Map<string, Scope>();

  constructor(readonly req: RunRequest) {
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

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Writes one record to the run log; a log that cannot be written stops the run. */
  record(fields: Record<string, unknown> & { type: RunRecord['type'] }): void {
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

  /** The expression scope for a set of loop variables (one per set, compiled expressions are cached by it). */
  scope(loopVars: readonly string[]): Scope {
    const key = loopVars.join(',');
    let s = this.scopes.get(key);
    if (!s) {
      s = { contexts: CONTEXTS, loopVars };
      this.scopes.set(key, s);
    }
    return s;
  }

  /** What expressions see in a frame: the run's context, the frame's steps, loop variables and index. */
  contextFor(frame: Frame): CelContext {
    const ctx: CelContext = { ...this.context, steps: frame.steps };
    for (const [k, v] of Object.entries(frame.loopVars)) ctx[k] = v;
    if (frame.index.length > 0) ctx.index = BigInt(frame.index[frame.index.length - 1]!);
    return ctx;
  }

  /** The top frame, where the workflow's steps (or its on_error steps, under `path`) run. */
  topFrame(path = ''): Frame {
    return { path, index: [], loopVars: {}, steps: this.context.steps as Map<string, unknown>, top: path === '' };
  }
}
