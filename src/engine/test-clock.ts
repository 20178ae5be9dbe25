/**
 * A clock tests move from outside the process: `FLUX_TEST_CLOCK=<file>` makes `flux daemon`,
 * `flux event` and `flux runs` read the time from that file (epoch milliseconds, or an ISO
 * time) instead of the system clock. Time stands still until the file changes, so a test sets
 * a time, lets the daemon act, and moves the file 48 hours on: a day-long wait or a month of
 * schedule fires takes milliseconds. Sleeps (retry back-off) return at once and move this
 * process's time forward by what they slept, as the demo's skipping clock does.
 *
 * Only the environment turns it on; nothing in a workflow or a request can.
 */
import { readFileSync } from 'node:fs';
import { SkippingClock, systemClock, type Clock } from './clock.js';

/** The time in a test clock file, or a clear error naming the file. */
export function readTestClock(path: string): number {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (error) {
    throw new Error(`FLUX_TEST_CLOCK: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const at = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(at)) throw new Error(`FLUX_TEST_CLOCK: ${path} holds neither epoch milliseconds nor an ISO time`);
  return at;
}

/**
 * A clock that follows a file; the last good time stays when the file is being rewritten.
 * The file is read on every call (a few microseconds, and only tests set it), so a process
 * sees a new time as soon as the test has written it: a test that moves the clock and then
 * sends a request knows which time the request meets.
 */
export function fileClock(path: string): SkippingClock {
  let value = readTestClock(path);
  return new SkippingClock(() => {
    try {
      value = readTestClock(path);
    } catch {
      // A writer truncates before it writes: keep the last time seen.
    }
    return value;
  });
}

/** The clock a command uses: the test clock when FLUX_TEST_CLOCK names a file, else the system clock. */
export function clockFromEnv(env: Readonly<Record<string, string | undefined>>): Clock {
  const path = env.FLUX_TEST_CLOCK;
  return path !== undefined && path !== '' ? fileClock(path) : systemClock;
}
