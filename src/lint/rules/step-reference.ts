/**
 * step-reference: `steps.<id>` must name a step that has finished by the time the expression is
 * evaluated: not an unknown id, not a later step, not the step itself or one containing it,
 * not a step in another branch of the same `parallel`, and not a step inside a `foreach` from
 * outside it (it ran once per item; the foreach's output holds each item's results).
 */
import { suggest } from '../../connectors/index.js';
import { contains, type StepInfo } from '../../workflow/model.js';
import type { FileRule } from '../rule.js';

export const stepReference: FileRule = {
  id: 'step-reference',
  description: 'Expressions may read only steps that have already run.',
  severity: 'error',
  scope: 'file',
  check(a, report) {
    for (const site of a.expressions) {
      for (const ref of site.checked.references) {
        if (ref.context !== 'steps') continue;
        const at = site.at(ref.start, ref.end);
        const targets = a.stepsById.get(ref.name);
        if (!targets || targets.length === 0) {
          report({ at, message: `unknown step \`${ref.name}\`${suggest(ref.name, [...a.stepsById.keys()])}` });
          continue;
        }
        const target = targets[0]!;
        const from = site.step;
        const where = () => {
          const p = a.source.locate([...target.path, 'id']);
          return `${p.line}:${p.column}`;
        };
        if (!from) {
          if (site.path[0] !== 'on_error') report({ at, message: `step \`${ref.name}\` is not available here: no step has run yet when this is evaluated` });
          continue;
        }
        if (from.recovery && !target.recovery) continue; // recovery steps may read any main step
        if (contains(target, from)) {
          const self = target === from;
          report({ at, message: self ? `step \`${ref.name}\` refers to its own output, which does not exist until it finishes` : `step \`${ref.name}\` contains this step and has not finished when it runs` });
        } else if (target.order > from.order) {
          report({ at, message: `step \`${ref.name}\` runs later (defined at ${where()})` });
        } else if (loopOutside(target, from)) {
          const loop = loopOutside(target, from)!;
          report({ at, message: `step \`${ref.name}\` runs once per item of foreach \`${loop.id ?? '?'}\`; read its results as \`steps.${loop.id ?? '?'}.output[i].${ref.name}\`` });
        } else if (caseOutside(target, from)) {
          const sw = caseOutside(target, from)!;
          report({ severity: 'warning', at, message: `step \`${ref.name}\` runs only when its case of switch \`${sw.id ?? '?'}\` is taken; guard the read with \`has(steps.${ref.name})\`` });
        } else if (inOtherBranch(target.branches, from.branches)) {
          report({ at, message: `step \`${ref.name}\` runs in another parallel branch and may not have finished (defined at ${where()})` });
        }
      }
    }
  },
};

/** The innermost foreach that contains `target` but not `from`, if any. */
function loopOutside(target: StepInfo, from: StepInfo): StepInfo | undefined {
  for (let p = target.parent; p; p = p.parent) {
    if (p.kind === 'foreach' && !contains(p, from)) return p;
  }
  return undefined;
}

/** The innermost switch that contains `target` but not `from`, if any. */
function caseOutside(target: StepInfo, from: StepInfo): StepInfo | undefined {
  for (let p = target.parent; p; p = p.parent) {
    if (p.kind === 'switch' && !contains(p, from)) return p;
  }
  return undefined;
}

function inOtherBranch(target: readonly string[], from: readonly string[]): boolean {
  for (let i = 0; i < target.length; i++) {
    const t = target[i]!;
    const f = from[i];
    if (f === undefined) return false;
    if (t !== f) return t.split('/')[0] === f.split('/')[0];
  }
  return false;
}
