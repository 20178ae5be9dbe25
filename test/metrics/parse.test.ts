// The parser: the regular-expression paths give the fields JSON.parse gives (they leave out
// only owner and baseline, which metrics takes from the fully parsed records), fall back on
// anything unusual, and never read a field from inside a step's output.
import { describe, expect, it } from 'vitest';
import { parseLine, type Parsed } from '../../src/metrics/parse.js';
import { finished, record, started, step, type RunHead } from './log-builder.js';

const head: RunHead = { run: '01JDX3K7Q0000000000000000A', workflow: 'lead-intake', baseline: { minutes_per_run: 6, currency: 'USD' } };
const withoutOwner = (p: Parsed) => (p.kind === 'record' ? { ...p, rec: { ...p.rec, owner: null, baseline: null } } : p);

const lines: Record<string, string> = {
  started: started(head, 0, { received_at: '2026-11-15T23:59:00.000Z', response_step: 'reply' }),
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
};

describe('parseLine', () => {
  for (const [name, line] of Object.entries(lines)) {
    it(`reads the same fields with and without the fast path: ${name}`, () => {
      const slow = parseLine(line, false);
      expect(slow.kind).toBe('record');
      expect(withoutOwner(parseLine(line, true))).toEqual(withoutOwner(slow));
    });
  }

  it('takes the fast path for the lines it is for, and JSON.parse for the others', () => {
    // The fast path leaves owner out: null owner shows which path read the line.
    const fast = ['step.started', 'step.finished GET', 'step.finished POST', 'step.finished no method', 'skipped', 'in a foreach', 'continued', 'baseline null', 'emitted'];
    for (const [name, line] of Object.entries(lines)) {
      const p = parseLine(line);
      expect(p.kind === 'record' && p.rec.owner === null, name).toBe(fast.includes(name));
    }
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
