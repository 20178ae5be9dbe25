/**
 * The next fire of a cron in an IANA time zone, DST-correct, as plain arithmetic: the cron is
 * matched field by field on local wall-clock time (months, then days, hours, minutes, seconds, so
 * a yearly cron costs the same as a minutely one), and wall times are mapped to instants one
 * constant-offset stretch of the zone at a time.
 *
 * Clock changes follow Vixie (ISC) cron's rules. node-cron, which flux uses to validate, is not
 * used here because it skips a wall time in a spring-forward gap, fires a repeated one at its
 * second occurrence and leaves an hour's hole in hourly and `*\/15` schedules on fall-back day.
 *
 * - Spring forward: a wall time that does not exist (02:30 on the day Europe/Berlin jumps from
 *   02:00 to 03:00) fires once, at the first instant after the gap (03:00 local). Several such
 *   fires (`*\/15`) merge into that one fire, so `*\/15 * * * *` goes 01:45, 03:00, 03:15: real
 *   15-minute steps.
 * - Fall back: a fixed-time cron (minute and hour fields name values: `30 2 * * *`) fires once for
 *   a wall time that occurs twice, at its first occurrence. A wildcard cron (minute or hour field
 *   starting with `*`: `*\/15 * * * *`, `0 * * * *`, @hourly) keeps real-time cadence and fires in
 *   both passes of the repeated hour: 02:00, 02:15 ... 02:45 summer time, then 02:00 ... 02:45
 *   winter time, each a distinct instant 15 minutes after the one before.
 */
import { compileCron, type CronFields } from './cron-fields.js';
import { zoneOffsets, type Stretch, type ZoneOffsets } from './zone-offsets.js';

const DAY = 86_400_000;
/** The Gregorian calendar repeats every 400 years: a cron with no match in that span never matches. */
const SEARCH_YEARS = 401;
/** Offset changes crossed in one search before giving up (a 400-year search crosses ~800). */
const MAX_SEGMENTS = 4000;

/** A cron compiled for one time zone. */
export interface Schedule {
  readonly cron: string;
  readonly timezone: string;
  /**
   * The first fire strictly after `after` (ms since the epoch), as an instant in ms (whole
   * seconds); undefined for a cron that can never match (such as `0 0 31W 4 *`).
   */
  next(after: number): number | undefined;
}

/** Compiles `cron` for `timezone` (default UTC); throws a RangeError for an invalid cron or zone. */
export function compileSchedule(cron: string, timezone = 'UTC'): Schedule {
  const fields = compileCron(cron);
  const zone = zoneOffsets(timezone);
  // The stretch the last call ended in: consecutive fires mostly share it.
  let stretch: Stretch | undefined;
  const stretchAt = (t: number): Stretch => {
    if (!stretch || t < stretch.from || t >= stretch.end) stretch = zone.stretchAt(t);
    return stretch;
  };
  return { cron, timezone, next: (after) => nextAfter(fields, zone, stretchAt, after) };
}

const schedules = new Map<string, Schedule>();

/**
 * The first fire of `cron` in `timezone` (IANA, default UTC) strictly after `after`, as an
 * absolute instant (ms); undefined when the cron can never match. DST rules: see this module's
 * header. Throws a RangeError for an invalid cron, zone or instant.
 */
export function nextFire(cron: string, timezone: string | undefined, after: number): number | undefined {
  return scheduleFor(cron, timezone).next(after);
}

/** compileSchedule, cached by (cron, zone). */
export function scheduleFor(cron: string, timezone: string | undefined): Schedule {
  const key = `${cron}\u0000${timezone ?? 'UTC'}`;
  let schedule = schedules.get(key);
  if (!schedule) {
    schedule = compileSchedule(cron, timezone);
    if (schedules.size > 10_000) schedules.clear();
    schedules.set(key, schedule);
  }
  return schedule;
}

function nextAfter(fields: CronFields, zone: ZoneOffsets, stretchAt: (t: number) => Stretch, after: number): number | undefined {
  if (!Number.isFinite(after)) throw new RangeError(`after must be a finite instant in ms, not ${after}`);
  let x = Math.floor(after / 1000) * 1000 + 1000;
  for (let i = 0; i < MAX_SEGMENTS; i++) {
    const { offset, start, before, end, endIsChange } = stretchAt(x);
    let from = x + offset;
    // At the first instant after a gap, the wall times the gap skipped fire too (once, here).
    if (x === start && before < offset) from = start + before;
    // After a fall-back, wall times of the repeated hour already fired in its first pass.
    if (before > offset && !fields.wildcard) from = Math.max(from, start + before);
    const wall = nextWall(fields, from);
    if (wall === undefined) return undefined;
    const at = wall < start + offset ? start : wall - offset;
    // The offset holds until `end`: no change between x and the candidate.
    if (at < end) return at;
    if (at - x > 3 * DAY && (end > x + DAY || (!endIsChange && !zone.firstTransition(x, x + DAY)))) {
      // Nothing matched between here and a candidate days away, and no offset changes within a
      // day: every instant up to two days before the candidate has a wall time in that empty
      // range (offsets differ by less than a day), so jump there instead of crossing each change.
      x = at - 2 * DAY;
      continue;
    }
    // The candidate lies past a change of offset (or the end of the sampled year): nothing fires
    // before `end` (its wall times are in the range that matched nothing), so search again from it.
    x = end;
  }
  return undefined;
}

/**
 * The first wall-clock time (ms, local time written as if it were UTC) at or after `from` that
 * the cron matches, stepping whole fields: the next allowed month, then day, hour, minute, second.
 */
function nextWall(f: CronFields, from: number): number | undefined {
  const d = new Date(Math.ceil(from / 1000) * 1000);
  let year = d.getUTCFullYear();
  let month = d.getUTCMonth() + 1;
  let day = d.getUTCDate();
  let hour = d.getUTCHours();
  let minute = d.getUTCMinutes();
  let second = d.getUTCSeconds();
  const lastYear = year + SEARCH_YEARS;
  for (;;) {
    const m = f.nextMonth[month]!;
    if (m !== month) {
      if (m === -1) {
        year++;
        if (year > lastYear) return undefined;
        month = 1;
      } else month = m;
      day = 1;
      hour = minute = second = 0;
      continue;
    }
    // Days from `day` on: bit 31 (day 32, after a month's end) is never set.
    const days = f.dayMask(year, month) & ~((1 << (day - 1)) - 1);
    if (days === 0) {
      month++;
      day = 1;
      hour = minute = second = 0;
      continue;
    }
    const nextDay = 32 - Math.clz32(days & -days);
    if (nextDay !== day) {
      day = nextDay;
      hour = minute = second = 0;
    }
    const h = f.nextHour[hour]!;
    if (h === -1) {
      day++;
      hour = minute = second = 0;
      continue;
    }
    if (h !== hour) {
      hour = h;
      minute = second = 0;
    }
    const mi = f.nextMinute[minute]!;
    if (mi === -1) {
      hour++;
      minute = second = 0;
      continue;
    }
    if (mi !== minute) {
      minute = mi;
      second = 0;
    }
    const s = f.nextSecond[second]!;
    if (s === -1) {
      minute++;
      second = 0;
      continue;
    }
    return Date.UTC(year, month - 1, day, hour, minute, s);
  }
}
