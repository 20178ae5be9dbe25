/**
 * The fast path of the line parser (parse.ts). flux writes records with a fixed key order
 * (src/store/run-log.ts, src/engine/step-records.ts): `v`, `type`, `ts`, `run_id`, `workflow`,
 * `workflow_version`, `owner`, `baseline`, then the fields of each type. Most of a log's bytes
 * are step outputs, which metrics never needs, so the common records are read by anchored
 * regular expressions instead of JSON.parse:
 * - `step.started` and `event.emitted`: the head up to the workflow, and the step id.
 * - a succeeded or skipped `step.finished`: up to the key after `method` (its `output` or
 *   `continued`, whose value is not read). Failed steps, whose `error` follows the output,
 *   are parsed whole.
 * - `run.started` (with the `daemon` and `attempt` flux daemon adds) and `run.finished`
 *   (without an `error`): the whole line; their owner and baseline are read as JSON.parse
 *   gives them (the baseline's text by JSON.parse, cached: baseline.ts).
 * Strings are matched only without escapes and numbers only as JSON writes them; anything
 * else (an escape in a name, another writer's key order, a newer field) returns null and the
 * line is parsed whole: the fast path changes speed, never results (test/metrics/parse.test.ts
 * damages lines and compares). What it does not check: the rest of a step line after the
 * part read (the line must end in `}`), so a line damaged inside a step's output still counts;
 * and raw control characters inside strings, which JSON forbids. Step records leave owner and
 * baseline out (null): metrics takes those from the run.started and run.finished of the run.
 * Why regular expressions and not a hand-written scanner: one was tried, comparing keys with
 * startsWith and finding strings with indexOf, and was 1.6 times slower (547 ms against 344 ms
 * on 319,299 lines of the benchmark's logs): a successful startsWith costs about 60 ns in
 * Node 20, more than an anchored expression takes for the whole head.
 */
import { baselineFromText } from './baseline.js';
import { parseTime } from './iso-time.js';
import type { Rec } from './parse.js';

// A string's characters that need no escape (control characters are not excluded: see above).
const S = String.raw`[^"\\]`;
// A number and an integer as JSON writes them (no leading zeros, no sign, no exponent).
const NUM = String.raw`((?:0|[1-9][0-9]{0,14})(?:\.[0-9]{1,20})?)`;
const INT = String.raw`(?:0|[1-9][0-9]{0,8})`;
// A foreach step's `index`: its loop positions.
const INDEX = String.raw`(?:,"index":\[(?:${INT}(?:,${INT}){0,40})?\])?`;
// A baseline object: flat, its strings simple names (keys, a currency code).
const BASELINE = String.raw`null|\{[-0-9a-zE.:,+ \t]*(?:"[A-Za-z_]{1,40}"[-0-9a-zE.:,+ \t]*)*\}`;
const HEAD = String.raw`"ts":"([0-9TZ:.+-]{10,40})","run_id":"(${S}{1,200})","workflow":"(${S}{0,200})",`;
const FULL_HEAD = String.raw`${HEAD}"workflow_version":"${S}{0,200}","owner":"(${S}{0,200})","baseline":(${BASELINE}),`;

const STEP_HEAD = new RegExp(String.raw`^\{"v":1,"type":"(step\.started|event\.emitted)",${HEAD}`);
// Found by search, not anchored: fast (the engine skips to the literal), and a JSON string
// cannot hold `,"step":"` unescaped, so the first one is the record's own key.
const STEP = new RegExp(String.raw`,"step":"(${S}{0,200})","path":`);
const FINISHED = new RegExp(
  String.raw`^\{"v":1,"type":"step\.finished",${HEAD}"workflow_version":"${S}{0,200}","owner":"${S}{0,200}","baseline":(${BASELINE}),` +
  String.raw`"step":"(${S}{0,200})","path":"${S}{0,1000}"${INDEX},"status":"(succeeded|skipped)",` +
  String.raw`"duration_ms":${NUM},"attempt":${INT}(?:,"http_status":${INT})?(?:,"method":"([A-Z]{1,16})")?(?:,"output":|,"continued":|\}$)`,
);
const RUN_FINISHED = new RegExp(String.raw`^\{"v":1,"type":"run\.finished",${FULL_HEAD}"status":"(${S}{0,200})","duration_ms":${NUM}\}$`);
const RUN_STARTED = new RegExp(
  String.raw`^\{"v":1,"type":"run\.started",${FULL_HEAD}"trigger":"${S}{0,200}","event_sha256":"${S}{0,200}","file":"${S}{0,1000}",` +
  String.raw`"dry_run":(?:true|false)(?:,"scheduled_for":"${S}{0,40}")?(?:,"received_at":"(${S}{0,40})")?(?:,"response_step":"(${S}{0,200})")?(?:,"daemon":"${S}{1,200}","attempt":${INT})?\}$`,
);

function rec(
  type: string, ts: number, run: string, workflow: string, owner: string | null, baseline: Rec['baseline'], step: string | null,
  status: string | null, durationMs: number | null, method: string | null, receivedAt: number | null, responseStep: string | null,
): Rec {
  return { type, ts, run, workflow, owner, baseline, step, status, durationMs, method, receivedAt, responseStep, wakeAt: null, delivered: null, error: null, ackDueAt: null, escalatedAt: null, elsewhere: false };
}

/** The record on one line of flux's own form, or null when the line must be parsed whole. */
export function fastRecord(line: string): Rec | null {
  if (line.charCodeAt(line.length - 1) !== 125 /* } */) return null;
  // The type's first letters, after `{"v":1,"type":"`: step.f…, run.s…, run.f…, else step.started or event.emitted.
  const c15 = line.charCodeAt(15);
  if (c15 === 115 /* s */ && line.charCodeAt(20) === 102 /* f */) {
    const m = FINISHED.exec(line);
    if (m === null) return null;
    const ts = parseTime(m[1]!);
    // The baseline is not kept (see above), but must be JSON, as the whole line must.
    if (!Number.isFinite(ts) || baselineFromText(m[4]!) === undefined) return null;
    return rec('step.finished', ts, m[2]!, m[3]!, null, null, m[5]!, m[6]!, Number(m[7]), m[8] ?? null, null, null);
  }
  if (c15 === 114 /* r */) {
    const started = line.charCodeAt(19) === 115; /* s */
    const m = (started ? RUN_STARTED : RUN_FINISHED).exec(line);
    if (m === null) return null;
    const ts = parseTime(m[1]!);
    const baseline = baselineFromText(m[5]!);
    if (!Number.isFinite(ts) || baseline === undefined) return null;
    if (!started) return rec('run.finished', ts, m[2]!, m[3]!, m[4]!, baseline, null, m[6]!, Number(m[7]), null, null, null);
    const received = m[6] === undefined ? NaN : parseTime(m[6]);
    return rec('run.started', ts, m[2]!, m[3]!, m[4]!, baseline, null, null, null, null, Number.isFinite(received) ? received : null, m[7] ?? null);
  }
  const m = STEP_HEAD.exec(line);
  if (m === null) return null;
  const s = STEP.exec(line);
  const ts = parseTime(m[2]!);
  return s !== null && Number.isFinite(ts) ? rec(m[1]!, ts, m[3]!, m[4]!, null, null, s[1]!, null, null, null, null, null) : null;
}
