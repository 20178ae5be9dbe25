/**
 * Trend periods in UTC: a day, a week starting on Monday, or a calendar month, each named by
 * its first day (YYYY-MM-DD).
 */
import type { Period } from './report.js';

const DAY = 86_400_000;

// periodStart by day number, per kind of period: it is asked once per run counted, and
// building the text through Date and toISOString cost more than counting the run.
const starts: Record<Period, Map<number, string>> = { day: new Map(), week: new Map(), month: new Map() };

/** The first day of the period `ts` falls in. */
export function periodStart(ts: number, by: Period): string {
  const dayNumber = Math.floor(ts / DAY);
  const cache = starts[by];
  let start = cache.get(dayNumber);
  if (start === undefined) {
    start = computeStart(ts, by);
    // Bounded: a log spanning more days than this only recomputes.
    if (cache.size >= 100_000) cache.clear();
    cache.set(dayNumber, start);
  }
  return start;
}

function computeStart(ts: number, by: Period): string {
  const d = new Date(ts);
  if (by === 'month') return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)).toISOString().slice(0, 10);
  const day = Math.floor(ts / DAY) * DAY;
  if (by === 'day') return new Date(day).toISOString().slice(0, 10);
  // getUTCDay: 0 is Sunday; Monday-based weeks go back (day + 6) % 7 days.
  return new Date(day - ((d.getUTCDay() + 6) % 7) * DAY).toISOString().slice(0, 10);
}

/** The period after the one starting on `start`. */
export function nextPeriod(start: string, by: Period): string {
  const t = Date.parse(`${start}T00:00:00Z`);
  if (by === 'day') return new Date(t + DAY).toISOString().slice(0, 10);
  if (by === 'week') return new Date(t + 7 * DAY).toISOString().slice(0, 10);
  const d = new Date(t);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)).toISOString().slice(0, 10);
}

/** Every period from `first` to `last`, both included, at most `cap` of them (the newest). */
export function periodRange(first: string, last: string, by: Period, cap = 5000): string[] {
  // A stray record dated 1970 must not make a series of 20,000 empty days: start at most
  // `cap` periods before the last.
  const length = by === 'day' ? DAY : by === 'week' ? 7 * DAY : 31 * DAY;
  const lastT = Date.parse(`${last}T00:00:00Z`);
  let p = lastT - Date.parse(`${first}T00:00:00Z`) > cap * length ? periodStart(lastT - (cap - 1) * length, by) : first;
  const out: string[] = [];
  for (; p <= last; p = nextPeriod(p, by)) out.push(p);
  return out.length > cap ? out.slice(-cap) : out;
}

/** A duration in words for messages: "2d 1h", "3h 20m", "45s". */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return h > 0 ? `${d}d ${h}h` : `${d}d`;
  if (h > 0) return m > 0 ? `${h}h ${m}m` : `${h}h`;
  if (m > 0) return `${m}m`;
  return `${s}s`;
}
