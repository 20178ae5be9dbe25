// One simulated run of one workflow, recorded as flux's engine records it (src/engine/*.ts,
// src/store/run-log.ts): the same record types, key order (v, type, ts, run_id, workflow,
// workflow_version, owner, baseline, then the type's fields in the engine's order) and the same
// rules: skipped steps have no step.started; retries record step.retry; a durable wait records
// run.waiting, then run.resumed when it wakes; a run rescued after a crash records run.resumed
// with attempt 2 and starts its unfinished step again; run.finished's duration_ms is that of
// the last attempt; a failure escalates when the workflow says so. Lines are built as strings,
// not with JSON.stringify, so a gigabyte is written in seconds; every value placed unquoted is
// either a number or a string serialized once by the model (metrics-gen-model.mjs).
import { runId } from './metrics-gen-model.mjs';

const iso = (ms) => new Date(ms).toISOString();
const STATUS_OF = { created: 201, mail: 202 };

/** The version (hash and baseline) of a workflow that was current at `ms`. */
function versionAt(wf, ms) {
  let v = wf.versions[0];
  for (const x of wf.versions) if (x.from <= ms) v = x;
  return v;
}

/**
 * Simulates one run started at `t0` (ms). `legacy`: written before flux recorded received_at,
 * response_step and method. Returns the lines with their times, the index of the line where a
 * durable wait resumed (-1: none), and what the run came to: `status` null when it has no
 * run.finished (a leaked run), else with its end time, duration_ms and cycle time.
 */
export function simulateRun(wf, t0, r, pools, { legacy, scheduledFor }) {
  const version = versionAt(wf, t0);
  const id = runId(t0, r);
  const base = `"run_id":"${id}","workflow":"${wf.name}","workflow_version":"${version.hash}","owner":"${wf.owner}","baseline":${version.base}`;
  const ts = [];
  const lines = [];
  const rec = (type, at, fields) => {
    ts.push(at);
    lines.push(`{"v":1,"type":"${type}","ts":"${iso(at)}",${base},${fields}}`);
  };
  let received = t0;
  if (wf.trigger === 'webhook') received = t0 - Math.round(r.chance(0.02) ? r.lognormal(30000, 1.2) : r.lognormal(wf.intakeMs, 0.6));
  else if (wf.trigger === 'schedule') received = scheduledFor;
  else if (wf.trigger === 'event') received = t0 - Math.round(r.lognormal(300, 0.8));
  else if (wf.trigger === 'poll') received = t0 - Math.round(r.lognormal(20000, 1));
  rec('run.started', t0, `"trigger":"${wf.trigger}","event_sha256":"${r.hex(64)}","file":"workflows/${wf.name}.yaml","dry_run":false${
    scheduledFor !== undefined ? `,"scheduled_for":"${iso(scheduledFor)}"` : ''}${
    legacy ? '' : `,"received_at":"${iso(received)}"${wf.responseStep !== undefined ? `,"response_step":"${wf.responseStep}"` : ''}`}`);

  let t = t0;
  let attemptStart = t0;
  let completed = 0;
  let resumedAt = -1;
  const end = (status, error) => {
    t += r.int(0, 2);
    rec('run.finished', t, `"status":"${status}","duration_ms":${t - attemptStart}${error ? `,"error":${error}` : ''}`);
    return { id, ts, lines, resumedAt, status, finishedAt: t, durationMs: t - attemptStart, cycleMs: status === 'succeeded' ? t - (legacy ? t0 : received) : null };
  };
  if (r.chance(wf.rejectP)) return end('rejected', `{"message":${r.pick(pools.rejections)}}`);

  const x = r.next();
  const fate = x < wf.leakP ? 'leak' : x < wf.leakP + wf.crashP ? 'crash' : x < wf.leakP + wf.crashP + wf.cancelP ? 'cancel' : null;
  const fateAt = r.int(0, wf.steps.length - 1);
  let fated = false;

  const started = (s, path, idx, key) => rec('step.started', t, `"step":"${s.id}","path":"${path}"${idx},"attempt":1,"idempotency_key":"${id}:${s.id}${key}"`);
  const finished = (s, path, idx, from, fields) => rec('step.finished', t, `"step":"${s.id}","path":"${path}"${idx},"status":"succeeded","duration_ms":${t - from},"attempt":1,${fields}`);

  /** A connector call with its retries: its output (null when none), and its failure unless it continues. */
  const call = (s, path, idx, key) => {
    started(s, path, idx, key);
    const from = t;
    const method = legacy ? '' : `,"method":"${s.method}"`;
    for (let attempt = 1; ; attempt++) {
      t += Math.max(1, Math.round(r.lognormal(s.latency, 0.5)));
      const y = r.next();
      if (y >= s.fatalP + s.transientP) {
        const big = s.bigExportP > 0 && r.chance(s.bigExportP);
        const output = big ? `${r.pick(pools.export)},"output_truncated":true` : r.pick(pools[s.out]);
        rec('step.finished', t, `"step":"${s.id}","path":"${path}"${idx},"status":"succeeded","duration_ms":${t - from},"attempt":${attempt},"http_status":${STATUS_OF[s.out] ?? 200}${method},"output":${output}`);
        return { output: big ? '"…"' : output, failure: undefined };
      }
      const fatal = y < s.fatalP;
      const f = fatal ? r.pick(pools.fatal) : r.chance(0.15) ? { message: r.pick(pools.network) } : r.pick(pools.failed);
      const status = f.status !== undefined ? `,"http_status":${f.status}` : '';
      const error = `{"message":${f.message},"step":"${s.id}"${status}}`;
      if (!fatal && attempt < s.attempts) {
        const delay = Math.round(Math.min(30000, 2000 * 2 ** (attempt - 1)) * (0.5 + r.next()));
        rec('step.retry', t, `"step":"${s.id}","path":"${path}"${idx},"attempt":${attempt},"delay_ms":${delay},"error":${error}`);
        t += delay;
        continue;
      }
      const continued = s.continueOnError ? ',"continued":true' : '';
      rec('step.finished', t, `"step":"${s.id}","path":"${path}"${idx},"status":"failed","duration_ms":${t - from},"attempt":${attempt}${status}${method}${f.output !== undefined ? `,"output":${f.output}` : ''},"error":${error}${continued}`);
      return { output: f.output ?? null, failure: s.continueOnError ? undefined : { error, message: f.message, step: s.id } };
    }
  };

  const foreach = (s) => {
    started(s, s.id, '', '');
    const from = t;
    const items = [];
    for (let i = 0, n = r.int(1, 2 * s.items); i < n; i++) {
      const outputs = [];
      for (const inner of s.inner) {
        const { output, failure } = call(inner, `${s.id}/${inner.id}`, `,"index":[${i}]`, `:${i}`);
        if (failure) {
          // The container is recorded failed with the nested step's message, and the run fails.
          t += 1;
          rec('step.finished', t, `"step":"${s.id}","path":"${s.id}","status":"failed","duration_ms":${t - from},"attempt":1,"error":{"message":${failure.message},"step":"${s.id}"}`);
          return failure;
        }
        outputs.push(`"${inner.id}":${output ?? 'null'}`);
        completed++;
      }
      items.push(`{${outputs.join(',')}}`);
    }
    t += 1;
    let output = `[${items.join(',')}]`;
    if (output.length > 16384) {
      // As capOutput does: whole items up to 16 KiB, then an ellipsis, the preview as a string.
      let preview = '[';
      for (const item of items) {
        if (preview.length + item.length + 1 > 16384) break;
        preview += `${preview.length > 1 ? ',' : ''}${item}`;
      }
      output = `${JSON.stringify(`${preview}…`)},"output_truncated":true`;
    }
    finished(s, s.id, '', from, `"output":${output}`);
    return undefined;
  };

  /** A durable wait: the attempt ends at run.waiting; a later one resumes and finishes the step. */
  const wait = (s) => {
    started(s, s.id, '', '');
    const from = t;
    const wake = t + (s.kind === 'wait' ? s.waitMs : s.timeoutMs);
    t += r.int(1, 3);
    rec('run.waiting', t, `"step":"${s.id}","path":"${s.id}","wake_at":"${iso(wake)}"${s.kind === 'wait_for' ? `,"event":"${s.event}"` : ''}`);
    const arrives = s.kind === 'wait_for' && r.chance(s.arriveP);
    t = arrives ? t + Math.round(Math.min(s.timeoutMs * 0.9, r.lognormal(s.timeoutMs / 20, 1.2))) + r.int(20, 500) : wake + r.int(5, 1500);
    resumedAt = lines.length;
    rec('run.resumed', t, `"attempt":1,"replayable":${completed}`);
    attemptStart = t;
    t += r.int(0, 3);
    const output = s.kind === 'wait' ? `{"waited_ms":${wake - from},"until":"${iso(wake)}"}` : arrives ? `{"timed_out":false,"event":${r.pick(pools.data)}}` : '{"timed_out":true,"event":null}';
    finished(s, s.id, '', from, `"output":${output}`);
  };

  for (let i = 0; i < wf.steps.length; i++) {
    const s = wf.steps[i];
    t += r.int(0, 3);
    if (s.skipP > 0 && r.chance(s.skipP)) {
      rec('step.finished', t, `"step":"${s.id}","path":"${s.id}","status":"skipped","duration_ms":0,"attempt":0`);
      completed++;
      continue;
    }
    if (fate !== null && !fated && i >= fateAt) {
      fated = true;
      started(s, s.id, '', '');
      // The daemon died here and no one rescued the run: its log simply stops.
      if (fate === 'leak') return { id, ts, lines, resumedAt, status: null, finishedAt: null, durationMs: null, cycleMs: null };
      t += Math.round(r.lognormal(2000, 1));
      if (fate === 'cancel') return end('cancelled', '{"message":"the run was cancelled"}');
      // Rescued: a new attempt replays the journal and starts the unfinished step again.
      t += r.int(5000, 120000);
      rec('run.resumed', t, `"attempt":2,"replayable":${completed}`);
      attemptStart = t;
    }
    let failure;
    if (s.kind === 'call') failure = call(s, s.id, '', '').failure;
    else if (s.kind === 'foreach') failure = foreach(s);
    else if (s.kind === 'wait' || s.kind === 'wait_for') wait(s);
    else {
      started(s, s.id, '', '');
      const from = t;
      t += r.int(0, 2);
      if (s.kind === 'emit') {
        const data = r.pick(pools.data);
        rec('event.emitted', t, `"step":"${s.id}","path":"${s.id}","event":"${s.event}","data":${data}`);
        finished(s, s.id, '', from, `"output":{"event":"${s.event}","data":${data}}`);
      } else {
        finished(s, s.id, '', from, `"output":${s.kind === 'set' ? r.pick(pools.set) : `{"case":"${r.pick(['large', 'small', 'default'])}"}`}`);
      }
    }
    if (failure) {
      if (!wf.escalate) return end('failed', failure.error);
      t += Math.round(r.lognormal(300, 0.5));
      const delivered = r.chance(wf.deliverP);
      rec('escalation', t, `"step":"${failure.step}","via":"chat.post","delivered":${delivered},"error":${failure.error}${delivered ? '' : `,"delivery_error":${r.pick(pools.deliveryErrors)}`}`);
      return end(delivered ? 'escalated' : 'failed', failure.error);
    }
    completed++;
  }
  return end('succeeded');
}
