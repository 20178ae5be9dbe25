// The parser: the regular-expression paths give the fields JSON.parse gives (step records
// leave out only owner and baseline, which metrics takes from run.started and run.finished),
// fall back on anything unusual, and never read a field from inside a step's output.
import { describe, expect, it } from 'vitest';
import { fastRecord } from '../../src/metrics/fast-parse.js';
import { parseLine, type Parsed } from '../../src/metrics/parse.js';
import { finished, record, started, step, type RunHead } from './log-builder.js';

const head: RunHead = { run: '01JDX3K7Q0000000000000000A', workflow: 'lead-intake', baseline: { minutes_per_run: 6, currency: 'USD' } };
/** What the fast path gives for a line JSON.parse read as `p`: step records without owner and baseline. */
const asFast = (p: Parsed) => (p.kind === 'record' && !p.rec.type.startsWith('run.') ? { ...p, rec: { ...p.rec, owner: null, baseline: null } } : p);

const lines: Record<string, string> = {
  started: started(head, 0, { received_at: '2026-11-15T23:59:00.000Z', response_step: 'reply' }),
  'started, under a daemon': started(head, 0, { received_at: '2026-11-15T23:59:00.000Z', response_step: 'reply', daemon: 'web-1:4242:0a1b2c3d', attempt: 1 }),
  'started, daemon with an escape': started(head, 0, { received_at: '2026-11-15T23:59:00.000Z', daemon: 'web"1', attempt: 1 }),
  resumed: record(head, 'run.resumed', 4, { attempt: 2, replayable: 3, daemon: 'web-2:77:00ff00ff', reason: 'rescue', previous_elsewhere: true }),
  'started, older log': started({ ...head, baseline: null }, 0),
  'started, scheduled': started({ ...head, owner: '', baseline: { minutes_per_run: 2.5, response_minutes: 0, hourly_cost: -3, currency: 'eur' } }, 0, { scheduled_for: '2026-11-16T00:00:00.000Z', received_at: '2026-11-16T00:00:01.000Z' }),
  'started, bad received_at': started(head, 0, { received_at: 'soon' }),
  'started, escaped file': started(head, 0, { file: 'a\\b.yaml', received_at: '2026-11-16T00:00:01.000Z' }),
  'started, unknown field': started(head, 0, { received_at: '2026-11-16T00:00:01.000Z', priority: 'high' }),
  'started, baseline with a string number': started({ ...head, baseline: { minutes_per_run: '5' as unknown as number } }, 0),
  'step.started': step(head, 'lookup', 1)[0]!,
  'step.finished GET': step(head, 'lookup', 1, { method: 'GET', duration_ms: 12.5 })[1]!,
  'step.finished POST': step(head, 'create', 2, { method: 'POST' })[1]!,
  'step.finished no method': step(head, 'set', 2)[1]!,
  'step.finished failed': step(head, 'create', 3, { status: 'failed', error: 'HTTP 503' })[1]!,
  skipped: record(head, 'step.finished', 3, { step: 'maybe', path: 'maybe', status: 'skipped', duration_ms: 0, attempt: 0 }),
  'in a foreach': record(head, 'step.finished', 3, { step: 's', path: 'each/s', index: [0, 12], status: 'succeeded', duration_ms: 3, attempt: 1, output: 1 }),
  continued: record(head, 'step.finished', 3, { step: 'c', path: 'c', status: 'succeeded', duration_ms: 3, attempt: 1, continued: true }),
  'escaped name': record({ ...head, workflow: 'say "hi"\\n' }, 'step.finished', 3, { step: 'a"b', path: 'a"b', status: 'succeeded', duration_ms: 1, attempt: 1, method: 'POST' }),
  'baseline null': record({ ...head, baseline: null }, 'step.finished', 3, { step: 'x', path: 'x', status: 'succeeded', duration_ms: 1, attempt: 1, http_status: 201, method: 'PUT', output: {} }),
  emitted: record(head, 'event.emitted', 4, { step: 'tell', path: 'tell', event: 'lead.created', data: { step: 'not this' } }),
  waiting: record(head, 'run.waiting', 5, { step: 'pause', path: 'pause', wake_at: '2026-11-17T00:00:00.000Z' }),
  escalation: record(head, 'escalation', 6, { via: 'chat.request', delivered: true, error: { message: 'HTTP 503' } }),
  finished: finished(head, 7, 'succeeded'),
  'finished, failed': finished(head, 7, 'failed'),
  'finished, no baseline': finished({ ...head, baseline: null, owner: 'x@example.com' }, 7, 'cancelled'),
};

describe('parseLine', () => {
  for (const [name, line] of Object.entries(lines)) {
    it(`reads the same fields with and without the fast path: ${name}`, () => {
      const slow = parseLine(line, false);
      expect(slow.kind).toBe('record');
      expect(parseLine(line, true)).toEqual(fastRecord(line) === null ? slow : asFast(slow));
    });
  }

  it('takes the fast path for the lines it is for, and JSON.parse for the others', () => {
    const fast = [
      'started', 'started, under a daemon', 'started, older log', 'started, scheduled', 'started, bad received_at', 'step.started', 'step.finished GET', 'step.finished POST',
      'step.finished no method', 'skipped', 'in a foreach', 'continued', 'baseline null', 'emitted', 'finished', 'finished, no baseline',
    ];
    for (const [name, line] of Object.entries(lines)) expect(fastRecord(line) !== null, name).toBe(fast.includes(name));
  });

  it('leaves to JSON.parse what JSON.parse would refuse or read otherwise', () => {
    const finishedLine = lines['step.finished GET']!;
    const refused = [
      // Numbers with a leading zero: not JSON.
      finishedLine.replace('"duration_ms":12.5', '"duration_ms":012.5'),
      lines.finished!.replace('"duration_ms":1000', '"duration_ms":01000'),
      // A baseline that is not JSON.
      lines.started!.replace('"minutes_per_run":6', '"minutes_per_run":6,,'),
      finishedLine.replace('"minutes_per_run":6', '"minutes_per_run":-'),
    ];
    for (const line of refused) {
      expect(fastRecord(line), line).toBeNull();
      expect(parseLine(line).kind, line).toBe('bad');
    }
    // A duplicate key after a run.finished's head: JSON.parse takes the last one.
    const twice = lines.finished!.replace(/}$/, ',"status":"failed"}');
    expect(fastRecord(twice)).toBeNull();
    expect(parseLine(twice)).toMatchObject({ rec: { status: 'failed' } });
  });

  it('agrees with JSON.parse on every line it takes, however a head is damaged', () => {
    // Each kind of line, one character of the part the fast path reads (a step.finished up to
    // its output, a step.started or event.emitted up to its path, run records whole)
    // replaced, deleted or doubled: whenever the fast path still reads it, JSON.parse reads the same.
    let r = 99;
    const next = (n: number) => {
      r = (Math.imul(r, 1103515245) + 12345) >>> 0;
      return r % n;
    };
    const alphabet = ['"', '\\', '{', '}', ',', ':', '1', '0', '.', '-', 'a', 'Z', 'T', ' ', 'é', '['];
    let taken = 0;
    for (const name of ['started', 'started, scheduled', 'step.started', 'step.finished GET', 'in a foreach', 'emitted', 'finished', 'finished, no baseline']) {
      const line = lines[name]!;
      const type = (JSON.parse(line) as { type: string }).type;
      // [from, to) of the parts read: step.started and event.emitted to the workflow, and the
      // step id (found by search: damage before its comma is damage to the part not read).
      const parts = type === 'step.finished' ? [[0, line.indexOf(',"output"') + 10]]
        : type.startsWith('run.') ? [[0, line.length]]
        : [[0, line.indexOf(',"workflow_version"') + 1], [line.indexOf(',"step":') + 1, line.indexOf('"path":') + 7]];
      for (let i = 0; i < 3000; i++) {
        const [from, to] = parts[next(parts.length)]!;
        const how = next(3);
        // A doubled character lands after the original: the last one checked is not doubled.
        const at = from! + next(to! - from! - (how === 2 ? 1 : 0));
        const c = alphabet[next(alphabet.length)]!;
        const damaged = line.slice(0, at) + (how === 0 ? c : how === 1 ? '' : line[at]! + line[at]!) + line.slice(at + 1);
        const rec = fastRecord(damaged);
        if (rec === null) continue;
        taken++;
        expect({ kind: 'record', rec }, damaged).toEqual(asFast(parseLine(damaged, false)));
      }
    }
    // Most damage is refused; some (a digit for a digit, a letter in a name) is still a record.
    expect(taken).toBeGreaterThan(500);
  });

  it('reads what metrics needs', () => {
    const s = parseLine(lines.started!);
    expect(s).toMatchObject({ kind: 'record', rec: { type: 'run.started', run: head.run, workflow: 'lead-intake', owner: 'ops@example.com', receivedAt: Date.parse('2026-11-15T23:59:00.000Z'), responseStep: 'reply' } });
    expect(s.kind === 'record' && s.rec.baseline).toEqual({ minutes_per_run: 6, response_minutes: null, hourly_cost: null, currency: 'USD', key: '6|null|null|USD' });
    expect(parseLine(lines['step.finished GET']!)).toMatchObject({ rec: { type: 'step.finished', step: 'lookup', status: 'succeeded', durationMs: 12.5, method: 'GET' } });
    expect(parseLine(lines['step.finished failed']!)).toMatchObject({ rec: { status: 'failed', error: 'HTTP 503', method: null } });
    expect(parseLine(lines['escaped name']!)).toMatchObject({ rec: { workflow: 'say "hi"\\n', step: 'a"b', method: 'POST' } });
    expect(parseLine(lines.waiting!)).toMatchObject({ rec: { wakeAt: Date.parse('2026-11-17T00:00:00.000Z') } });
    expect(parseLine(lines.escalation!)).toMatchObject({ rec: { delivered: true, error: 'HTTP 503' } });
  });

  it('never takes a field from inside an output', () => {
    // An output holding a whole fake record of a failed POST: the record itself is a GET.
    const fake = JSON.parse(step(head, 'x', 9, { status: 'failed', method: 'POST', error: 'fake' })[1]!) as object;
    const line = record(head, 'step.finished', 3, { step: 'get', path: 'get', status: 'succeeded', duration_ms: 5, attempt: 1, http_status: 200, method: 'GET', output: fake });
    expect(parseLine(line)).toMatchObject({ rec: { step: 'get', status: 'succeeded', method: 'GET', error: null, durationMs: 5 } });
  });

  it('says what is wrong with a line that is not a record, and tells a newer version apart', () => {
    expect(parseLine('{"v":1,"type":"step.fin')).toEqual({ kind: 'bad', message: expect.stringMatching(/^not JSON: /) });
    expect(parseLine('[1,2]')).toEqual({ kind: 'bad', message: 'not a run record: not a JSON object' });
    expect(parseLine('{"type":"run.started"}')).toEqual({ kind: 'bad', message: 'not a run record: no format version `v`' });
    expect(parseLine('{"v":1,"type":"run.started","ts":"x","run_id":"r","workflow":"w"}')).toEqual({ kind: 'bad', message: 'not a run record: `ts` is not a time' });
    expect(parseLine('{"v":1,"type":"run.started","ts":"2026-11-16T00:00:00Z","workflow":"w"}')).toEqual({ kind: 'bad', message: 'not a run record: no `run_id`' });
    expect(parseLine(lines.finished!.replace('"v":1', '"v":2'))).toEqual({ kind: 'newer', version: 2 });
    // A step.started cut short is not taken for a record by the fast path.
    expect(parseLine(lines['step.started']!.slice(0, -1)).kind).toBe('bad');
  });

  it('bounds long names and messages', () => {
    const p = parseLine(record({ ...head, workflow: 'w'.repeat(5000) }, 'run.finished', 1, { status: 'failed', duration_ms: 1, error: { message: 'm'.repeat(10_000) } }));
    expect(p.kind === 'record' && [p.rec.workflow.length, p.rec.error?.length]).toEqual([201, 201]);
  });
});
