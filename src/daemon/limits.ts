/**
 * How many runs of each workflow may run at once, as the store's claim enforces it: the
 * workflow's own `concurrency`, and one at a time for a schedule whose fires must not overlap
 * (`overlap: skip` or `queue`; a waiting run holds its slot, so the next fire starts only once
 * the previous run finished). Workflows with neither are limited only by the daemon's
 * `--concurrency`.
 */
import type { LoadedWorkflow } from '../engine/types.js';
import type { WorkflowLimit } from '../store/store.js';
import { scheduleSpec } from './scheduler.js';

/** The per-workflow limits for `Store.claimRuns`, by workflow name. */
export function workflowLimits(workflows: readonly LoadedWorkflow[]): Map<string, WorkflowLimit> {
  const limits = new Map<string, WorkflowLimit>();
  for (const w of workflows) {
    const own = typeof w.value.concurrency === 'number' && Number.isInteger(w.value.concurrency) && w.value.concurrency >= 1 ? w.value.concurrency : undefined;
    const overlap = scheduleSpec(w)?.overlap;
    if (overlap === 'skip' || overlap === 'queue') limits.set(w.name, { max: 1, countWaiting: true });
    else if (own !== undefined) limits.set(w.name, { max: own });
  }
  return limits;
}
