// FLUX_TEST_CLOCK: the time comes from a file, stands still until the file changes, keeps the
// last good time while the file is being rewritten, and refuses a file it cannot read.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/engine/clock.js';
import { clockFromEnv, fileClock, readTestClock } from '../../src/engine/test-clock.js';

const file = () => join(mkdtempSync(join(tmpdir(), 'flux-clock-')), 'now');
const later = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('test clock', () => {
  it('reads epoch milliseconds and ISO times', () => {
    const f = file();
    writeFileSync(f, '1700000000000\n');
    expect(readTestClock(f)).toBe(1_700_000_000_000);
    writeFileSync(f, '2026-03-08T10:30:00Z');
    expect(readTestClock(f)).toBe(Date.parse('2026-03-08T10:30:00Z'));
  });

  it('stands still, follows the file, and keeps the last time while the file is empty', async () => {
    const f = file();
    writeFileSync(f, '1000');
    const clock = fileClock(f);
    expect(clock.now()).toBe(1000);
    await later(20);
    expect(clock.now()).toBe(1000);
    writeFileSync(f, String(1000 + 48 * 3_600_000));
    await later(20);
    expect(clock.now()).toBe(1000 + 48 * 3_600_000);
    writeFileSync(f, '');
    await later(20);
    expect(clock.now()).toBe(1000 + 48 * 3_600_000);
  });

  it('sleeps skip time forward instead of waiting', async () => {
    const f = file();
    writeFileSync(f, '5000');
    const clock = fileClock(f);
    const t = Date.now();
    await clock.sleep(60_000);
    expect(Date.now() - t).toBeLessThan(1000);
    expect(clock.now()).toBe(65_000);
  });

  it('is off unless the environment names a file, and names a file it cannot read', () => {
    expect(clockFromEnv({})).toBe(systemClock);
    expect(clockFromEnv({ FLUX_TEST_CLOCK: '' })).toBe(systemClock);
    expect(() => clockFromEnv({ FLUX_TEST_CLOCK: '/nonexistent/flux-clock' })).toThrow(/FLUX_TEST_CLOCK: cannot read \/nonexistent\/flux-clock: ENOENT/);
    const f = file();
    writeFileSync(f, 'next tuesday');
    expect(() => clockFromEnv({ FLUX_TEST_CLOCK: f })).toThrow(/neither epoch milliseconds nor an ISO time/);
  });
});
