/**
 * What the cross-file rules need to know of each workflow, extracted once per file so the
 * parsed documents can be released while the rest of a large directory is linted.
 */
import { asRecord, triggerOf } from '../workflow/model.js';
import type { Analysis } from './analysis.js';
import type { Position } from './diagnostic.js';

export interface EmitFact {
  readonly event: string;
  readonly at: Position;
}

export interface ProjectFacts {
  readonly file: string;
  /** The workflow's name, or its file when it has none. */
  readonly name: string;
  readonly webhook?: { readonly path: string; readonly method: string; readonly at: Position };
  /** The event that triggers this workflow, if any. */
  readonly triggeredBy?: string;
  readonly emits: readonly EmitFact[];
  /** Events its `wait_for` steps wait for. */
  readonly awaits: readonly string[];
}

/** Extracts the cross-file facts of one analysed workflow. */
export function factsOf(a: Analysis): ProjectFacts {
  const t = triggerOf(a.workflow);
  const emits: EmitFact[] = [];
  const awaits: string[] = [];
  for (const s of a.steps) {
    const emitted = asRecord(s.step.emit)?.event;
    if (typeof emitted === 'string') emits.push({ event: emitted, at: a.source.locate([...s.path, 'emit', 'event']) });
    const awaited = asRecord(s.step.wait_for)?.event;
    if (typeof awaited === 'string') awaits.push(awaited);
  }
  const webhook = t?.kind === 'webhook' && typeof t.body.path === 'string'
    ? { path: t.body.path, method: typeof t.body.method === 'string' ? t.body.method : 'POST', at: a.source.locate(['trigger', 'webhook', 'path']) }
    : undefined;
  const triggeredBy = t?.kind === 'event' && typeof t.body.name === 'string' ? t.body.name : undefined;
  return {
    file: a.source.file,
    name: typeof a.workflow.name === 'string' ? a.workflow.name : a.source.file,
    ...(webhook ? { webhook } : {}),
    ...(triggeredBy !== undefined ? { triggeredBy } : {}),
    emits,
    awaits,
  };
}
