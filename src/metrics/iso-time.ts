/**
 * Reading record times fast. Every record has a time, and Date.parse was a third of the time
 * spent parsing a benchmark log's lines (109 ms for 319,000 times, against 317 ms for the
 * whole parse of the same lines). flux writes every time in one form, `toISOString()`'s
 * `YYYY-MM-DDTHH:MM:SS.sssZ`, and consecutive records mostly fall on the same day, so the
 * day is parsed once (by Date.parse, which also judges its validity) and the time of day is
 * plain arithmetic. Anything else, and any field out of its range, goes to Date.parse: the
 * result is always Date.parse's (test/metrics/iso-time.test.ts compares them).
 */

const HOUR = 3_600_000;
const MINUTE = 60_000;

// The last day read, as the number YYYYMMDD and its epoch milliseconds: consecutive records
// of a run, and runs in one file, share it. (A number, not the text: comparing it costs a few
// character reads, where startsWith cost more than the rest of the parse.)
let lastDay = -1;
let lastDayMs = NaN;

/** Two decimal digits at `at`, or -1. */
function two(s: string, at: number): number {
  const a = s.charCodeAt(at) - 48;
  const b = s.charCodeAt(at + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/** The epoch milliseconds of an ISO time, as Date.parse gives them (NaN when it is not one). */
export function parseTime(s: string): number {
  if (s.length !== 24 || s.charCodeAt(23) !== 90 /* Z */ || s.charCodeAt(10) !== 84 /* T */ || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58 || s.charCodeAt(19) !== 46) {
    return Date.parse(s);
  }
  const h = two(s, 11);
  const m = two(s, 14);
  const sec = two(s, 17);
  const ms10 = two(s, 20);
  const ms1 = s.charCodeAt(22) - 48;
  // Hour 24 and second 60 are left to Date.parse, which decides whether it takes them.
  if (h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 59 || ms10 < 0 || ms1 < 0 || ms1 > 9) return Date.parse(s);
  const y100 = two(s, 0);
  const y1 = two(s, 2);
  const mo = two(s, 5);
  const d = two(s, 8);
  // Only a strict YYYY-MM-DD is read here: Date.parse reads other text with its lenient legacy
  // parser, for which a day plus a time of day need not add up.
  if (y100 < 0 || y1 < 0 || mo < 0 || d < 0 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return Date.parse(s);
  const day = (y100 * 100 + y1) * 10000 + mo * 100 + d;
  if (day !== lastDay) {
    const dayMs = Date.parse(`${s.slice(0, 10)}T00:00:00.000Z`);
    if (!Number.isFinite(dayMs)) return Date.parse(s);
    lastDay = day;
    lastDayMs = dayMs;
  }
  return lastDayMs + h * HOUR + m * MINUTE + sec * 1000 + ms10 * 10 + ms1;
}
