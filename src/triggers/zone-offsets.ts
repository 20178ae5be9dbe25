/**
 * UTC offsets and their transitions (DST and other clock changes) for IANA time zones, read from
 * the runtime's own tz data through Intl.DateTimeFormat. Each zone-year is sampled once (a day
 * apart, then bisected to the second at every change) and cached, so the planner's hot path is a
 * table lookup, not an Intl call.
 */

/** A change of a zone's UTC offset: from `at` on, local time is `at + after`. */
export interface Transition {
  /** The first instant (ms) with the new offset. */
  readonly at: number;
  /** Offset (ms, local minus UTC) before and after. `after > before` opens a gap (spring forward). */
  readonly before: number;
  readonly after: number;
}

interface ZoneYear {
  readonly start: number;
  readonly end: number;
  readonly startOffset: number;
  /** Sorted; each within (start, start of the next year]. */
  readonly transitions: readonly Transition[];
}

const DAY = 86_400_000;

/** The UTC year of instant `t`, without allocating a Date. */
function utcYear(t: number): number {
  let year = 1970 + Math.floor(t / 31_556_952_000);
  while (Date.UTC(year, 0, 1) > t) year--;
  while (Date.UTC(year + 1, 0, 1) <= t) year++;
  return year;
}

/**
 * A stretch of constant offset: `offset` holds on [from, end). `start`/`before` describe the last
 * change at or before `from` (start -Infinity when there is none nearby); `end` is the next change
 * when `endIsChange`, else only the end of the sampled year (the offset may go on).
 */
export interface Stretch {
  readonly from: number;
  readonly end: number;
  readonly endIsChange: boolean;
  readonly offset: number;
  readonly start: number;
  readonly before: number;
}

/** The offsets of one time zone. */
export interface ZoneOffsets {
  readonly zone: string;
  /** The stretch of constant offset holding instant `t`. */
  stretchAt(t: number): Stretch;
  /** Offset (ms) in effect at instant `t`. */
  offsetAt(t: number): number;
  /** The first transition with `from < at <= to`, if any. */
  firstTransition(from: number, to: number): Transition | undefined;
  /** The last transition with `from < at <= to`, if any. */
  lastTransition(from: number, to: number): Transition | undefined;
}

const zones = new Map<string, ZoneOffsets>();

/** The (cached) offsets of `zone`; throws a RangeError for a zone this runtime does not know. */
export function zoneOffsets(zone: string): ZoneOffsets {
  let z = zones.get(zone);
  if (!z) {
    z = createZone(zone);
    zones.set(zone, z);
  }
  return z;
}

function createZone(zone: string): ZoneOffsets {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    throw new RangeError(`unknown time zone \`${zone}\`; use an IANA name such as Europe/Berlin or America/New_York`);
  }
  const fixed = format.resolvedOptions().timeZone === 'UTC';
  const rawOffset = (t: number): number => {
    if (fixed) return 0;
    const s = Math.floor(t / 1000) * 1000;
    // en-US order (month, day, year, hour, minute, second); separators vary between ICU versions.
    const m = /^(\d+)\D+(\d+)\D+(\d+)\D+(\d+)\D+(\d+)\D+(\d+)$/.exec(format.format(s));
    if (!m) throw new Error(`unexpected date format from Intl for ${zone}`);
    const wall = Date.UTC(Number(m[3]), Number(m[1]) - 1, Number(m[2]), Number(m[4]), Number(m[5]), Number(m[6]));
    return wall - s;
  };

  const years = new Map<number, ZoneYear>();
  const yearOf = (year: number): ZoneYear => {
    let y = years.get(year);
    if (!y) {
      y = sampleYear(year, rawOffset);
      years.set(year, y);
    }
    return y;
  };
  let recent: ZoneYear | undefined;
  const tableAt = (t: number): ZoneYear => {
    if (recent && t >= recent.start && t < recent.end) return recent;
    recent = yearOf(utcYear(t));
    return recent;
  };

  const zoneOffsets: ZoneOffsets = {
    zone,
    stretchAt(t) {
      const y = tableAt(t);
      let i = -1;
      while (i + 1 < y.transitions.length && y.transitions[i + 1]!.at <= t) i++;
      const next = y.transitions[i + 1];
      const end = next?.at ?? y.end;
      const endIsChange = next !== undefined;
      if (i >= 0) {
        const tr = y.transitions[i]!;
        return { from: tr.at, end, endIsChange, offset: tr.after, start: tr.at, before: tr.before };
      }
      // A change at the year's first instant is stored with the year before.
      const prev = zoneOffsets.lastTransition(y.start - DAY, y.start);
      return { from: y.start, end, endIsChange, offset: y.startOffset, start: prev?.at ?? Number.NEGATIVE_INFINITY, before: prev?.before ?? y.startOffset };
    },
    offsetAt(t) {
      const y = tableAt(t);
      let offset = y.startOffset;
      for (const tr of y.transitions) {
        if (tr.at > t) break;
        offset = tr.after;
      }
      return offset;
    },
    firstTransition(from, to) {
      // A transition at a year's first instant is stored with the year before.
      const last = utcYear(to - 1);
      for (let year = utcYear(from); year <= last; year++) {
        for (const tr of yearOf(year).transitions) {
          if (tr.at > to) return undefined;
          if (tr.at > from) return tr;
        }
      }
      return undefined;
    },
    lastTransition(from, to) {
      const first = utcYear(from);
      for (let year = utcYear(to - 1); year >= first; year--) {
        const list = yearOf(year).transitions;
        for (let i = list.length - 1; i >= 0; i--) {
          const tr = list[i]!;
          if (tr.at <= from) return undefined;
          if (tr.at <= to) return tr;
        }
      }
      return undefined;
    },
  };
  return zoneOffsets;
}

/**
 * Samples a UTC year once a day and bisects each change to the second. Two changes less than a
 * day apart would hide each other; none of the 418 zones of Node 20's tz data has such a pair in
 * 1990-2040 (checked at a 3-hour step).
 */
function sampleYear(year: number, rawOffset: (t: number) => number): ZoneYear {
  const start = Date.UTC(year, 0, 1);
  const end = Date.UTC(year + 1, 0, 1);
  const startOffset = rawOffset(start);
  const transitions: Transition[] = [];
  let lo = start;
  let loOffset = startOffset;
  while (lo < end) {
    const hi = Math.min(lo + DAY, end);
    const hiOffset = rawOffset(hi);
    if (hiOffset !== loOffset) {
      let a = lo;
      let b = hi;
      while (b - a > 1000) {
        const mid = a + Math.floor((b - a) / 2000) * 1000;
        if (rawOffset(mid) === loOffset) a = mid;
        else b = mid;
      }
      transitions.push({ at: b, before: loOffset, after: hiOffset });
    }
    lo = hi;
    loOffset = hiOffset;
  }
  return { start, end, startOffset, transitions };
}
