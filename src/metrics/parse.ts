/**
 * One log line to the few fields metrics needs. Lines are outside data: anything may be in
 * them, so every field is checked for its type and strings are bounded before they are kept.
 *
 * flux writes records with a fixed key order (src/store/run-log.ts, step-records.ts): `v`,
 * `type`, `ts`, `run_id`, `workflow`, …. Most of a log's bytes are step outputs, which metrics
 * never needs, so three kinds of record are read by anchored regular expressions instead of
 * JSON.parse: `step.started` and `event.emitted` (their head: time, run, workflow, step), and
 * a succeeded or skipped `step.finished` up to the key after `method` (the first byte of its
 * `output`). Failed steps (whose `error` follows the output) and every other type are parsed
 * whole. Measured:
 * - test/metrics/parse-bench.mjs (busy 2-core machine): 300,000 step.started lines in
 *   160-170 ms against 480-680 ms through JSON.parse.
 * - `flux metrics` in-process on 200 MB of generated logs (test/bench/metrics-gen.mjs, 4,439
 *   files, 325,560 records): 5.7 s parsing every step.finished, 2.3 s with this path, the same
 *   report byte for byte; JSON.parse alone of those lines is 2.2 s, reading and splitting 0.5 s.
 * A line that does not match (escapes in a name, another writer's key order, a failed step)
 * falls back to JSON.parse: the fast path changes speed, never results. What it does not
 * check is the rest of a matched line after its head (it must end in `}`): a line damaged
 * inside a step's output still counts.
 */

/** The newest record format this reader knows. */
export const KNOWN_VERSION = 1;

/** Kept strings are cut to this many characters: names and messages are shown, not stored whole. */
export const MAX_TEXT = 200;

/** The manual baseline a record carries, checked. */
export interface BaselineValue {
  readonly minutes_per_run: number | null;
  readonly response_minutes: number | null;
  readonly hourly_cost: number | null;
  readonly currency: string | null;
  /** A stable text of the four, to count distinct baselines. */
  readonly key: string;
}

/** The fields of one record that metrics uses. */
export interface Rec {
  readonly type: string;
  readonly ts: number;
  readonly run: string;
  readonly workflow: string;
  readonly owner: string | null;
  readonly baseline: BaselineValue | null;
  readonly step: string | null;
  readonly status: string | null;
  readonly durationMs: number | null;
  readonly method: string | null;
  readonly receivedAt: number | null;
  readonly responseStep: string | null;
  readonly wakeAt: number | null;
  readonly delivered: boolean | null;
  readonly error: string | null;
}

/** A line read: a record, a record of a newer format, or a line that is not a record. */
export type Parsed =
  | { readonly kind: 'record'; readonly rec: Rec }
  | { readonly kind: 'newer'; readonly version: number }
  | { readonly kind: 'bad'; readonly message: string };

const HEAD = /^\{"v":1,"type":"(step\.started|event\.emitted)","ts":"([0-9TZ:.+-]{10,40})","run_id":"([^"\\]{1,200})","workflow":"([^"\\]{0,200})",/;
const STEP = /,"step":"([^"\\]{0,200})","path":/;
// A succeeded or skipped step.finished, anchored from the first byte to the key after its
// head (so nothing inside `output` can match), in the order src/engine/step-records.ts writes.
const FINISHED = new RegExp(
  '^\\{"v":1,"type":"step\\.finished","ts":"([0-9TZ:.+-]{10,40})","run_id":"([^"\\\\]{1,200})","workflow":"([^"\\\\]{0,200})",' +
  '"workflow_version":"[^"\\\\]{0,200}","owner":"[^"\\\\]{0,200}","baseline":(?:null|\\{[^{}"]*(?:"[A-Za-z_]{1,40}"[^{}"]*)*\\}),' +
  '"step":"([^"\\\\]{0,200})","path":"[^"\\\\]{0,1000}"(?:,"index":\\[[0-9,]{0,200}\\])?,"status":"(succeeded|skipped)",' +
  '"duration_ms":([0-9]{1,15}(?:\\.[0-9]{1,20})?),"attempt":[0-9]{1,9}(?:,"http_status":[0-9]{1,3})?(?:,"method":"([A-Z]{1,16})")?(?:,"output"|,"continued"|\\})',
);

/** Parses one line. `fast` turns the regular-expression paths on (the default). */
export function parseLine(line: string, fast = true): Parsed {
  if (fast && line.charCodeAt(line.length - 1) === 125 /* } */) {
    const f = line.charCodeAt(20) === 102 /* the f of {"v":1,"type":"step.finished" */ ? FINISHED.exec(line) : null;
    if (f) {
      const ts = Date.parse(f[1]!);
      if (Number.isFinite(ts)) {
        return {
          kind: 'record',
          rec: {
            type: 'step.finished', ts, run: f[2]!, workflow: f[3]!, owner: null, baseline: null, step: f[4]!, status: f[5]!, durationMs: Number(f[6]),
            method: f[7] ?? null, receivedAt: null, responseStep: null, wakeAt: null, delivered: null, error: null,
          },
        };
      }
    }
    const m = HEAD.exec(line);
    if (m) {
      const ts = Date.parse(m[2]!);
      const s = STEP.exec(line);
      if (Number.isFinite(ts) && s) {
        return {
          kind: 'record',
          rec: {
            type: m[1]!, ts, run: m[3]!, workflow: m[4]!, owner: null, baseline: null, step: s[1]!, status: null, durationMs: null,
            method: null, receivedAt: null, responseStep: null, wakeAt: null, delivered: null, error: null,
          },
        };
      }
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return { kind: 'bad', message: `not JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  return fromObject(value);
}

/** A parsed JSON value to a record, or why it is not one. */
export function fromObject(value: unknown): Parsed {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { kind: 'bad', message: 'not a run record: not a JSON object' };
  const o = value as Record<string, unknown>;
  if (typeof o.v === 'number' && o.v > KNOWN_VERSION) return { kind: 'newer', version: o.v };
  if (o.v !== KNOWN_VERSION) return { kind: 'bad', message: 'not a run record: no format version `v`' };
  if (typeof o.type !== 'string') return { kind: 'bad', message: 'not a run record: no `type`' };
  if (typeof o.run_id !== 'string' || o.run_id === '') return { kind: 'bad', message: 'not a run record: no `run_id`' };
  if (typeof o.workflow !== 'string') return { kind: 'bad', message: 'not a run record: no `workflow`' };
  const ts = typeof o.ts === 'string' ? Date.parse(o.ts) : NaN;
  if (!Number.isFinite(ts)) return { kind: 'bad', message: 'not a run record: `ts` is not a time' };
  const err = o.error;
  return {
    kind: 'record',
    rec: {
      type: cut(o.type),
      ts,
      run: cut(o.run_id),
      workflow: cut(o.workflow),
      owner: typeof o.owner === 'string' ? cut(o.owner) : null,
      baseline: baseline(o.baseline),
      step: typeof o.step === 'string' ? cut(o.step) : null,
      status: typeof o.status === 'string' ? cut(o.status) : null,
      durationMs: typeof o.duration_ms === 'number' && Number.isFinite(o.duration_ms) ? o.duration_ms : null,
      method: typeof o.method === 'string' ? cut(o.method.toUpperCase()) : null,
      receivedAt: time(o.received_at),
      responseStep: typeof o.response_step === 'string' ? cut(o.response_step) : null,
      wakeAt: time(o.wake_at),
      delivered: typeof o.delivered === 'boolean' ? o.delivered : null,
      error: typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string' ? cut((err as { message: string }).message) : null,
    },
  };
}

function cut(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;
}

function time(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const t = Date.parse(value);
  return Number.isFinite(t) ? t : null;
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null;
}

function baseline(value: unknown): BaselineValue | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const b = value as Record<string, unknown>;
  const minutes = num(b.minutes_per_run);
  const response = num(b.response_minutes);
  const cost = num(b.hourly_cost);
  const currency = typeof b.currency === 'string' && /^[A-Z]{3}$/.test(b.currency) ? b.currency : null;
  if (minutes === null && response === null && cost === null && currency === null) return null;
  return { minutes_per_run: minutes, response_minutes: response, hourly_cost: cost, currency, key: `${minutes}|${response}|${cost}|${currency}` };
}
