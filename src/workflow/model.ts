/**
 * The workflow model: typed views of a parsed workflow and the walk over its (nested) steps.
 * The schema has already checked shapes when rules use these; the walk still tolerates
 * malformed input so that rules can run on files that also have schema errors.
 */
import type { Path } from './source.js';

export type StepBodyKind = 'uses' | 'switch' | 'foreach' | 'parallel' | 'set' | 'wait' | 'wait_for' | 'emit' | 'fail' | 'approval';
export const STEP_BODY_KINDS: readonly StepBodyKind[] = ['uses', 'switch', 'foreach', 'parallel', 'set', 'wait', 'wait_for', 'emit', 'fail', 'approval'];

/** A step as written, loosely typed: every field may be missing or of the wrong type. */
export type RawStep = Readonly<Record<string, unknown>>;

/** One step found by the walk, with where it stands. */
export interface StepInfo {
  readonly id: string | undefined;
  readonly step: RawStep;
  readonly path: Path;
  /** Position in depth-first document order. */
  readonly order: number;
  /** Order of the last step nested inside this one (its own order when it has none). */
  lastDescendant: number;
  readonly parent: StepInfo | undefined;
  /** Identifies the parallel branches this step sits in, outermost first, e.g. ["3/0"]. */
  readonly branches: readonly string[];
  /** Loop variables in scope for the step's nested steps' expressions and its own. */
  readonly loopVars: readonly string[];
  /** True for steps under the workflow-level `on_error`. */
  readonly recovery: boolean;
  readonly kind: StepBodyKind | undefined;
}

/** Walks all steps, including those nested in switch, foreach, parallel and `on_error.steps`. */
export function walkSteps(workflow: Readonly<Record<string, unknown>>): StepInfo[] {
  const out: StepInfo[] = [];
  const visitList = (list: unknown, path: Path, parent: StepInfo | undefined, branches: readonly string[], loopVars: readonly string[], recovery: boolean) => {
    if (!Array.isArray(list)) return;
    list.forEach((raw, index) => {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return;
      const step = raw as RawStep;
      const info: StepInfo = {
        id: typeof step.id === 'string' ? step.id : undefined,
        step, path: [...path, index], order: out.length, lastDescendant: out.length, parent, branches, loopVars, recovery,
        kind: STEP_BODY_KINDS.find((k) => k in step),
      };
      out.push(info);
      const here = info.path;
      const sw = asRecord(step.switch);
      if (sw) {
        if (Array.isArray(sw.cases)) sw.cases.forEach((c, i) => visitList(asRecord(c)?.steps, [...here, 'switch', 'cases', i, 'steps'], info, branches, loopVars, recovery));
        visitList(sw.default, [...here, 'switch', 'default'], info, branches, loopVars, recovery);
      }
      const fe = asRecord(step.foreach);
      if (fe) {
        const as = typeof fe.as === 'string' ? fe.as : 'item';
        visitList(fe.steps, [...here, 'foreach', 'steps'], info, branches, [...loopVars, as], recovery);
      }
      const par = asRecord(step.parallel);
      if (par && Array.isArray(par.branches)) {
        par.branches.forEach((b, i) => visitList(asRecord(b)?.steps, [...here, 'parallel', 'branches', i, 'steps'], info, [...branches, `${info.order}/${i}`], loopVars, recovery));
      }
      info.lastDescendant = out.length - 1;
    });
  };
  visitList(workflow.steps, ['steps'], undefined, [], [], false);
  visitList(asRecord(workflow.on_error)?.steps, ['on_error', 'steps'], undefined, [], [], true);
  return out;
}

/**
 * The steps marked `response: true`, in walk order (workflow steps, then `on_error` steps): the
 * step whose success answers the triggering event, which time-to-response in `flux metrics` is
 * measured to. A valid workflow marks at most one (lint rule response-step), on a `uses` step.
 */
export function responseSteps(steps: readonly StepInfo[]): StepInfo[] {
  return steps.filter((s) => s.step.response === true);
}

/** True when `ancestor` contains `step` (or is it). */
export function contains(ancestor: StepInfo, step: StepInfo): boolean {
  return step.order >= ancestor.order && step.order <= ancestor.lastDescendant;
}

/** The record at `value`, or undefined when it is not a mapping. */
export function asRecord(value: unknown): Readonly<Record<string, unknown>> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** The trigger's kind and body, accepting the `trigger: manual` shorthand. */
export function triggerOf(workflow: Readonly<Record<string, unknown>>): { kind: string; body: Readonly<Record<string, unknown>> } | undefined {
  const t = workflow.trigger;
  if (t === 'manual') return { kind: 'manual', body: {} };
  const rec = asRecord(t);
  if (!rec) return undefined;
  const keys = Object.keys(rec);
  if (keys.length !== 1) return undefined;
  return { kind: keys[0]!, body: asRecord(rec[keys[0]!]) ?? {} };
}

/**
 * Who owns a workflow: `owner` as a string (one person or handle), or a team. `name` is what
 * run logs and metrics call the owner (the string, or the team's name); `members` is who may
 * acknowledge its escalations (the owner alone, or the team's members and its backup).
 */
export interface Owner {
  readonly name: string;
  readonly members: readonly string[];
  readonly backup?: string;
}

/** The workflow's owner (see Owner); an owner of the wrong shape (lint reports it) reads as its text. */
export function ownerOf(workflow: Readonly<Record<string, unknown>>): Owner {
  const team = asRecord(workflow.owner);
  if (team && typeof team.team === 'string') {
    const members = Array.isArray(team.members) ? team.members.filter((m): m is string => typeof m === 'string') : [];
    const backup = typeof team.backup === 'string' ? team.backup : undefined;
    return { name: team.team, members: backup !== undefined && !members.includes(backup) ? [...members, backup] : members, ...(backup !== undefined ? { backup } : {}) };
  }
  const name = String(workflow.owner);
  return { name, members: [name] };
}

/** True when a daemon runs the workflow with nobody watching: a schedule, webhook, poll or event trigger. */
export function isUnattended(workflow: Readonly<Record<string, unknown>>): boolean {
  const kind = triggerOf(workflow)?.kind;
  return kind === 'schedule' || kind === 'webhook' || kind === 'poll' || kind === 'event';
}
