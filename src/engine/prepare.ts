/**
 * Before the first step: check the event against the workflow's `inputs`, make sure every
 * declared secret has a value (and register it with the masker), resolve `env`, and build the
 * context expressions read. A refusal here ends the run `rejected` with nothing sent.
 */
import { toCel, type CelContext } from '../expr/evaluate.js';
import { MIN_SECRET_LENGTH } from '../secrets/masker.js';
import { compileInputs } from '../workflow/inputs.js';
import { asRecord } from '../workflow/model.js';
import type { RunRequest } from './types.js';

export type Prepared = { readonly ok: true; readonly context: CelContext } | { readonly ok: false; readonly rejection: string };

/** Validates the request and builds the expression context. */
export function prepareRun(req: RunRequest, started: number): Prepared {
  const wf = req.workflow.value;
  if (asRecord(req.event) === undefined) {
    return { ok: false, rejection: `the event must be a JSON object, not ${req.event === null ? 'null' : Array.isArray(req.event) ? 'a list' : typeof req.event}` };
  }
  const inputs = asRecord(wf.inputs);
  if (inputs) {
    const compiled = compileInputs(inputs);
    if (!compiled.ok) return { ok: false, rejection: `the workflow's inputs schema is invalid: ${compiled.message}` };
    if (!compiled.validate(req.event)) {
      const problems = (compiled.validate.errors ?? []).slice(0, 5).map((e) => {
        const at = e.instancePath ? `event${e.instancePath.replace(/\//g, '.')}` : 'event';
        if (e.keyword === 'required') return `${at} must have required property \`${String((e.params as { missingProperty?: string }).missingProperty)}\``;
        return `${at} ${e.message ?? 'is invalid'}`;
      });
      return { ok: false, rejection: `the event does not match the workflow's inputs: ${problems.join('; ')}` };
    }
  }
  const declared = Array.isArray(wf.secrets) ? wf.secrets.filter((s): s is string => typeof s === 'string') : [];
  // Own values only: a secret or setting may be named `constructor` or `__proto__`.
  const secretOf = (name: string): string | undefined => (Object.hasOwn(req.secrets, name) ? req.secrets[name] : undefined);
  const missing = declared.filter((name) => secretOf(name) === undefined || secretOf(name) === '');
  if (missing.length > 0) {
    const names = missing.map((m) => `\`${m}\``).join(', ');
    return { ok: false, rejection: `secret${missing.length === 1 ? '' : 's'} ${names} not set; set ${missing.length === 1 ? 'it' : 'them'} in the environment or in an env file (--env-file)` };
  }
  const short = declared.filter((name) => secretOf(name)!.length < MIN_SECRET_LENGTH);
  if (short.length > 0) {
    const names = short.map((m) => `\`${m}\``).join(', ');
    return { ok: false, rejection: `secret${short.length === 1 ? '' : 's'} ${names} ${short.length === 1 ? 'is' : 'are'} shorter than ${MIN_SECRET_LENGTH} characters; a value that short cannot be masked in logs without garbling them, and is no secret` };
  }
  // Maps, as CEL reads them: any name is a key, never a property of the object itself.
  const secrets = new Map(declared.map((name) => [name, secretOf(name)!]));
  for (const value of secrets.values()) req.masker.add(value);
  const env = new Map(Object.entries(asRecord(wf.env) ?? {}).map(([name, value]) => {
    const override = Object.hasOwn(req.environment, name) ? req.environment[name] : undefined;
    return [name, toCel(override !== undefined ? override : value)];
  }));
  const run = { id: req.runId, started_at: new Date(started).toISOString(), trigger: req.trigger, attempt: req.attempt ?? 1 };
  const workflow = { name: req.workflow.name, owner: req.workflow.owner, version: req.workflow.version };
  return { ok: true, context: { event: toCel(req.event ?? {}), steps: new Map(), secrets, env, run: toCel(run), workflow } };
}
