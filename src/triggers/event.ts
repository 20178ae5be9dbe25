/**
 * The event trigger: which workflows an event starts, and what an event from outside (`flux
 * event`, `POST /events/NAME`) must be before it is stored. Pure: no store, no clock, so the
 * daemon's delivery loop and both intakes apply the same rules.
 *
 * An event's name follows the schema's `eventName` pattern (lowercase letters, digits, dots, -
 * and _), at most 200 characters; its data is a JSON object (a run's `event` is an object
 * wherever it comes from) within the engine's bounds: 1 MiB, 64 levels.
 */
import type { LoadedWorkflow } from '../engine/types.js';
import type { Scope } from '../expr/cel.js';
import { evaluateCondition, toCel } from '../expr/evaluate.js';
import { exceedsBounds, MAX_EVENT_BYTES, MAX_JSON_DEPTH } from '../limits/json.js';
import { escapeControl } from '../text/escape.js';
import { asRecord, triggerOf } from '../workflow/model.js';
import { locateJsonError } from './json-syntax.js';

/** The schema's `eventName` pattern. */
export const EVENT_NAME_PATTERN = /^[a-z0-9][a-z0-9_.-]*$/;
/** The longest event name accepted from outside (it travels in URLs and log lines). */
export const MAX_EVENT_NAME_LENGTH = 200;

const EVENT_SCOPE: Scope = { contexts: ['event'], loopVars: [] };

/** Why `name` cannot be an event name, or undefined when it can. */
export function eventNameProblem(name: string): string | undefined {
  if (name.length > MAX_EVENT_NAME_LENGTH) return `the event name is longer than ${MAX_EVENT_NAME_LENGTH} characters`;
  if (!EVENT_NAME_PATTERN.test(name)) {
    return `\`${escapeControl(name.slice(0, 80))}\` is not an event name: use lowercase letters, digits, dots, - and _, starting with a letter or digit (e.g. lead.qualified)`;
  }
  return undefined;
}

/** Event data read from JSON text, or why not; `where` names the text's origin in the reason. */
export type EventData = { readonly ok: true; readonly data: Readonly<Record<string, unknown>> } | { readonly ok: false; readonly reason: string; readonly tooLarge?: true };

/** Reads event data from JSON text: an object, within 1 MiB and 64 levels. Never throws. */
export function parseEventData(text: string, where: string): EventData {
  if (Buffer.byteLength(text) > MAX_EVENT_BYTES) return { ok: false, reason: `the event data in ${where} is larger than 1 MiB, the most an event may be`, tooLarge: true };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    const at = locateJsonError(text);
    if (!at) return { ok: false, reason: `the event data in ${where} is not valid JSON: ${escapeControl(error instanceof Error ? error.message : String(error))}` };
    const found = at.found === undefined ? 'the end of the text' : `\`${escapeControl(at.found)}\``;
    return { ok: false, reason: `the event data in ${where} is not valid JSON: line ${at.line}, column ${at.column}: expected ${at.expected}, found ${found}` };
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    const got = data === null ? 'null' : Array.isArray(data) ? 'a list' : `a ${typeof data}`;
    return { ok: false, reason: `the event data in ${where} must be a JSON object, not ${got}; e.g. '{"booking_id": "B-1"}'` };
  }
  const problem = exceedsBounds(data, { maxDepth: MAX_JSON_DEPTH, maxBytes: MAX_EVENT_BYTES }, `the event data in ${where}`);
  if (problem) return { ok: false, reason: problem, ...(problem.includes('larger') ? { tooLarge: true as const } : {}) };
  return { ok: true, data: data as Record<string, unknown> };
}

/** The workflows an event starts, and the ones whose `trigger.event.if` could not be read for it. */
export interface TriggeredBy {
  readonly start: readonly LoadedWorkflow[];
  readonly problems: readonly string[];
}

/**
 * The workflows triggered by an event: `trigger: { event: { name } }` equal to its name, and
 * `if` (over `event`, the event's data) true. An `if` that cannot be evaluated for this event
 * starts nothing and is named, so the operator sees why a run did not start.
 */
export function triggeredBy(workflows: readonly LoadedWorkflow[], name: string, data: unknown): TriggeredBy {
  const start: LoadedWorkflow[] = [];
  const problems: string[] = [];
  for (const workflow of workflows) {
    const trigger = triggerOf(workflow.value);
    if (trigger?.kind !== 'event' || trigger.body.name !== name) continue;
    const condition = trigger.body.if;
    if (condition !== undefined) {
      try {
        if (!evaluateCondition(condition, EVENT_SCOPE, { event: toCel(data ?? {}) })) continue;
      } catch (error) {
        problems.push(`${workflow.name}: trigger.event.if could not be evaluated for this event: ${error instanceof Error ? error.message : String(error)}`);
        continue;
      }
    }
    start.push(workflow);
  }
  return { start, problems };
}

/** The events a workflow's `wait_for` steps wait for, nested steps and recovery steps included. */
export function awaitedEvents(workflow: Readonly<Record<string, unknown>>): Set<string> {
  const names = new Set<string>();
  const stack: unknown[] = [workflow.steps, asRecord(workflow.on_error)?.steps];
  while (stack.length > 0) {
    const list = stack.pop();
    if (!Array.isArray(list)) continue;
    for (const raw of list) {
      const step = asRecord(raw);
      if (!step) continue;
      const awaited = asRecord(step.wait_for)?.event;
      if (typeof awaited === 'string') names.add(awaited);
      const sw = asRecord(step.switch);
      const par = asRecord(step.parallel);
      stack.push(asRecord(step.foreach)?.steps, sw?.default);
      if (Array.isArray(sw?.cases)) for (const c of sw.cases) stack.push(asRecord(c)?.steps);
      if (Array.isArray(par?.branches)) for (const b of par.branches) stack.push(asRecord(b)?.steps);
    }
  }
  return names;
}
