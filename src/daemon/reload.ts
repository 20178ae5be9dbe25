/**
 * What a SIGHUP changes. The files are read again and compared with what is served, file by
 * file: a new or changed file that lints clean is served in its new version; a changed file
 * that fails lint keeps its previous version running (an edit saved half way must not stop a
 * workflow that worked), and so does a file in a directory that could not be listed; a file
 * that is gone stops being served. A new file with errors is simply not served. Every kept or
 * refused file carries its first error for the log.
 *
 * Planning (`planReload`) is pure; `reloader` reads the files, stores the new versions before
 * any run can use them, swaps the daemon's WorkflowSet and logs what changed, file by file.
 */
import type { Clock } from '../engine/clock.js';
import type { Masker } from '../secrets/masker.js';
import type { Store } from '../store/store.js';
import { maskDeclaredSecrets, type DaemonLog } from './log.js';
import type { DaemonMetrics } from './metrics.js';
import type { WorkflowFiles, ServedWorkflow } from './workflow-files.js';
import type { WorkflowSet } from './workflow-set.js';

/** What a reload does, file by file. */
export interface ReloadPlan {
  /** What to serve from now on. */
  readonly next: readonly ServedWorkflow[];
  readonly added: readonly ServedWorkflow[];
  readonly changed: readonly ServedWorkflow[];
  readonly removed: readonly ServedWorkflow[];
  /** Changed (or unreadable) files kept at the version served before, and why. */
  readonly kept: readonly { readonly previous: ServedWorkflow; readonly problem: string }[];
  /** New files not served, and why. */
  readonly refused: readonly { readonly file: string; readonly problem: string }[];
  readonly unchanged: number;
}

/** Compares what is served with what the files hold now. Files are matched by name (`workflow.file`). */
export function planReload(served: readonly ServedWorkflow[], files: WorkflowFiles): ReloadPlan {
  const before = new Map(served.map((s) => [s.workflow.file, s]));
  const next: ServedWorkflow[] = [];
  const added: ServedWorkflow[] = [];
  const changed: ServedWorkflow[] = [];
  const kept: { previous: ServedWorkflow; problem: string }[] = [];
  const refused: { file: string; problem: string }[] = [];
  const seen = new Set<string>();
  let unchanged = 0;
  for (const v of files.valid) {
    const file = v.workflow.file;
    seen.add(file);
    const previous = before.get(file);
    if (!previous) added.push(v);
    else if (previous.workflow.version !== v.workflow.version) changed.push(v);
    else {
      unchanged++;
      next.push(previous);
      continue;
    }
    next.push(v);
  }
  for (const i of files.invalid) {
    seen.add(i.file);
    const previous = before.get(i.file);
    if (previous) {
      kept.push({ previous, problem: i.firstError });
      next.push(previous);
    } else refused.push({ file: i.file, problem: i.firstError });
  }
  const removed: ServedWorkflow[] = [];
  for (const previous of served) {
    const file = previous.workflow.file;
    if (seen.has(file)) continue;
    const dir = files.unlisted.find((u) => file.startsWith(`${u.path.replace(/\/+$/, '')}/`));
    if (dir) {
      kept.push({ previous, problem: `${dir.path}: cannot read directory: ${dir.reason}` });
      next.push(previous);
    } else removed.push(previous);
  }
  next.sort((a, b) => (a.workflow.file < b.workflow.file ? -1 : a.workflow.file > b.workflow.file ? 1 : 0));
  return { next, added, changed, removed, kept, refused, unchanged };
}

/** What a reload needs from the daemon. */
export interface ReloadDeps {
  /** Reads the workflow files as the daemon was started on them. */
  readonly reread: () => Promise<WorkflowFiles>;
  readonly set: WorkflowSet;
  readonly store: Store;
  readonly clock: Clock;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly log: DaemonLog;
  readonly metrics: DaemonMetrics;
  /** The log's masker, told the secrets that new versions declare. */
  readonly masker?: Masker;
}

/**
 * The daemon's reload: each call re-reads the files and swaps what is served; resolves to the
 * plan, or undefined when the files could not be read or the store not written (then nothing
 * changed). Calls made while one runs wait their turn: two SIGHUPs reload twice, in order.
 */
export function reloader(d: ReloadDeps): () => Promise<ReloadPlan | undefined> {
  let last: Promise<unknown> = Promise.resolve();
  return () => {
    const next = last.then(() => reloadOnce(d));
    last = next.catch(() => undefined);
    return next;
  };
}

async function reloadOnce(d: ReloadDeps): Promise<ReloadPlan | undefined> {
  const { log } = d;
  let plan: ReloadPlan;
  try {
    const files = await d.reread();
    for (const m of files.missing) log.warn(`reload: ${m}: no such file, directory, or glob match`, { kind: 'reload.missing', path: m });
    plan = planReload(d.set.all, files);
    // Stored before they are served: a run enqueued a moment later must find its version.
    for (const { workflow, text } of [...plan.added, ...plan.changed]) {
      await d.store.putWorkflowVersion({ hash: workflow.version, name: workflow.name, text, createdAt: d.clock.now() });
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log.error(`reload failed, serving the workflows as before: ${message}`, { kind: 'reload.failed', error: message });
    d.metrics.reloaded('failed');
    return undefined;
  }
  if (d.masker) maskDeclaredSecrets(d.masker, plan.next.map((e) => e.workflow), d.env);
  const { routeProblems } = d.set.replace(plan.next);
  const short = (w: ServedWorkflow) => w.workflow.version.slice(0, 'sha256:'.length + 12);
  for (const w of plan.added) log.info(`reload: ${w.workflow.file}: now serving ${w.workflow.name} (${short(w)})`, { kind: 'reload.added', ...facts(w) });
  for (const w of plan.changed) log.info(`reload: ${w.workflow.file}: new runs of ${w.workflow.name} use ${short(w)}`, { kind: 'reload.changed', ...facts(w) });
  for (const w of plan.removed) log.info(`reload: ${w.workflow.file}: gone; ${w.workflow.name} is no longer served`, { kind: 'reload.removed', ...facts(w) });
  for (const k of plan.kept) log.error(`reload: ${k.problem}; keeping the version served before (${short(k.previous)})`, { kind: 'reload.kept', ...facts(k.previous), error: k.problem });
  for (const r of plan.refused) log.error(`reload: ${r.problem}; not served`, { kind: 'reload.refused', file: r.file, error: r.problem });
  for (const p of routeProblems) log.error(`webhook not served: ${p}`, { kind: 'webhook.unserved' });
  const errors = plan.kept.length + plan.refused.length;
  d.metrics.reloaded(errors > 0 ? 'partial' : 'ok');
  log.info(`reloaded: ${plan.added.length} added, ${plan.changed.length} changed, ${plan.removed.length} removed, ${plan.unchanged} unchanged${errors > 0 ? `, ${errors} with errors` : ''}`, {
    kind: 'reload', added: plan.added.length, changed: plan.changed.length, removed: plan.removed.length, unchanged: plan.unchanged, errors,
  });
  return plan;
}

function facts(w: ServedWorkflow): { file: string; workflow: string; version: string } {
  return { file: w.workflow.file, workflow: w.workflow.name, version: w.workflow.version };
}
