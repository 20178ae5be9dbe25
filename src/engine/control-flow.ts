/**
 * Steps that contain steps: `switch` (the first matching case), `foreach` (items, with bounded
 * concurrency and per-item progress) and `parallel` (branches at once). Each runs its inner
 * lists through the interpreter loop it is handed (`RunList`), so this file depends on no
 * particular step kind.
 */
import type { Scope } from '../expr/cel.js';
import { evaluateCondition, renderValue, toCel, type CelContext } from '../expr/evaluate.js';
import { asRecord } from '../workflow/model.js';
import type { Frame, RunState } from './run-state.js';
import { Cancelled, RAW, StepFailure, Suspended } from './step-state.js';

/** The interpreter loop: runs a list of steps in a frame. */
export type RunList = (list: unknown, frame: Frame) => Promise<void>;

/** Runs the first case whose `if` holds, else `default`; its output says which ran. */
export async function runSwitch(runList: RunList, sw: Readonly<Record<string, unknown>>, frame: Frame, path: string, scope: Scope, ctx: CelContext): Promise<unknown> {
  const cases = Array.isArray(sw.cases) ? sw.cases : [];
  for (let i = 0; i < cases.length; i++) {
    const c = asRecord(cases[i]) ?? {};
    if (evaluateCondition(c.if, scope, ctx)) {
      await runList(c.steps, { ...frame, path, top: false });
      return { case: i };
    }
  }
  if (sw.default !== undefined) {
    await runList(sw.default, { ...frame, path, top: false });
    return { case: 'default' };
  }
  return { case: null };
}

/** Runs the inner steps once per item, `concurrency` at a time; its output is each item's inner outputs. */
export async function runForeach(run: RunState, runList: RunList, fe: Readonly<Record<string, unknown>>, id: string, frame: Frame, path: string, scope: Scope, ctx: CelContext): Promise<unknown> {
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
    while (failure === undefined && !run.signal.aborted) {
      const i = next++;
      if (i >= items.length) return;
      const steps = new Map(frame.steps);
      const itemFrame: Frame = { path, index: [...frame.index, i], loopVars: { ...frame.loopVars, [as]: toCel(items[i]) }, steps, top: false };
      try {
        await runList(fe.steps, itemFrame);
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
      run.req.onProgress?.({ step: id, path, done, total: items.length });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (run.signal.aborted) throw new Cancelled();
  if (failure !== undefined) throw failure;
  return results;
}

/** Runs every branch at once; a failing branch fails the step, after all branches settled. */
export async function runParallel(runList: RunList, par: Readonly<Record<string, unknown>>, frame: Frame, path: string): Promise<unknown> {
  const branches = Array.isArray(par.branches) ? par.branches : [];
  const settled = await Promise.allSettled(branches.map((b) => runList(asRecord(b)?.steps, { ...frame, path, top: false })));
  // A failure outweighs a branch that only waits: the run fails rather than sleeping on it.
  const rejected = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected').sort((a, b) => Number(a.reason instanceof Suspended) - Number(b.reason instanceof Suspended))[0];
  if (rejected) throw rejected.reason;
  return { branches: branches.length };
}
