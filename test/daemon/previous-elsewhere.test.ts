// Whether a resumed run's previous turn is in this daemon's part of its log: the part is
// missing, or ends before the journal's last entry (another daemon ran a turn since), or holds
// the run's log so far. Real files; the journal entries as the store gives them.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deliveryKey } from '../../src/daemon/journal-keys.js';
import { previousElsewhere } from '../../src/daemon/runner.js';
import type { JournalEntry } from '../../src/store/store.js';

const T = Date.UTC(2026, 10, 24, 9, 0, 0);
const line = (type: string, at: number, extra = '') => `{"v":1,"type":"${type}","ts":"${new Date(at).toISOString()}","run_id":"R","workflow":"w"${extra}}`;
const entry = (key: string, finishedAt: number): JournalEntry => ({ runId: 'R', key, kind: 'step', status: 'succeeded', output: null, error: null, attempt: 1, startedAt: finishedAt, finishedAt });

function file(lines: readonly string[], tail = '\n'): string {
  const path = join(mkdtempSync(join(tmpdir(), 'flux-elsewhere-')), 'R.jsonl');
  writeFileSync(path, lines.join('\n') + tail);
  return path;
}

describe('previousElsewhere', () => {
  it('is true when this daemon has no part of the run log', () => {
    expect(previousElsewhere(join(tmpdir(), 'no-such-dir', 'R.jsonl'), [entry('a', T)])).toBe(true);
    expect(previousElsewhere(file([], ''), [])).toBe(true);
  });

  it('is false when the part ends at or after the journal\'s last entry: the previous turn wrote here', () => {
    const path = file([line('run.started', T), line('step.finished', T + 1000), line('run.waiting', T + 2000, ',"wake_at":"x"')]);
    expect(previousElsewhere(path, [entry('a', T + 1000), entry('pause~waiting', T + 2000)])).toBe(false);
  });

  it('is true when the journal has entries after the part ends: another daemon ran a turn since', () => {
    const path = file([line('run.started', T), line('run.waiting', T + 2000)]);
    expect(previousElsewhere(path, [entry('a', T + 1000), entry('b', T + 60_000)])).toBe(true);
  });

  it('leaves out events delivered to a wait (journaled by the event service, not a turn), and reads past a cut last line and a long output', () => {
    const long = line('step.finished', T + 2000, `,"output":"${'x'.repeat(100_000)}"`);
    const path = file([line('run.started', T), long, line('run.waiting', T + 3000), '{"v":1,"type":"step.sta'], '');
    expect(previousElsewhere(path, [entry('a', T + 2000), entry(deliveryKey('reply', 0), T + 50_000)])).toBe(false);
    expect(previousElsewhere(path, [entry('a', T + 2000), entry('reply', T + 50_000)])).toBe(true);
  });
});
