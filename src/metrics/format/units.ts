/**
 * Figures as people read them in a terminal: counts, hours, durations, rates and money with
 * their units, short enough for a fixed column (large values are scaled, 12.3k), and the
 * sparkline of a trend. Plain text only, no markup and no colour, so any text format can use
 * them; what a format must escape (HTML, CSV) is its own business.
 */

/** Shown for a figure that cannot be computed (null in the report). */
export const NONE = '–';

const SCALES: readonly (readonly [number, string])[] = [
  [1e12, 'T'],
  [1e9, 'B'],
  [1e6, 'M'],
  [1e3, 'k'],
];

/**
 * A number in at most about 6 characters: `decimals` places below `plainBelow`, else scaled
 * with one decimal (12.3k, 4.5M, 6.7B, 8.9T), else in exponent form. The unit is chosen after
 * rounding, so 999,960 reads 1.0M and never 1000.0k.
 */
export function scaled(n: number, decimals: number, plainBelow = 1000): string {
  if (!Number.isFinite(n)) return NONE;
  const abs = Math.abs(n);
  if (Number(abs.toFixed(decimals)) < plainBelow) return n.toFixed(decimals);
  if (abs >= 999.95e12) return n.toExponential(1);
  for (let i = SCALES.length - 1; i >= 0; i--) {
    const [size, suffix] = SCALES[i]!;
    const v = Number((abs / size).toFixed(1));
    if (v < 1000) return `${n < 0 ? '-' : ''}${v.toFixed(1)}${suffix}`;
  }
  return n.toExponential(1);
}

/** A count of runs or failures: exact up to 99,999, scaled beyond. */
export function formatCount(n: number): string {
  return scaled(n, 0, 100_000);
}

/** A count with thousands separators, for sentences (the summary band, the leak headline). */
export function formatCountLong(n: number): string {
  return Math.abs(n) < 1e15 ? n.toLocaleString('en-US', { maximumFractionDigits: 0 }) : n.toExponential(2);
}

/** Hours for a column: `10.3 h`, `12.3k h`. */
export function formatHours(hours: number): string {
  return `${scaled(hours, 1)} h`;
}

/** Hours for a sentence, with separators: `1,234.5 h`. */
export function formatHoursLong(hours: number): string {
  return Math.abs(hours) < 1e12 ? `${grouped(hours, 1)} h` : formatHours(hours);
}

/** Money for a sentence or a wide column: `1,234.50 USD`, scaled past a million. */
export function formatMoney(value: number | null, currency: string | null): string {
  if (value === null) return NONE;
  const amount = Math.abs(value) < 1e6 ? grouped(value, 2) : scaled(value, 1);
  return currency ? `${amount} ${currency}` : amount;
}

function grouped(n: number, decimals: number): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/**
 * A duration in seconds with the unit that keeps it short: ms below a second, then s, min,
 * h (up to two days) and d. One decimal below 10 of a unit, whole numbers above: 0.4 s,
 * 42 s, 1.5 min, 12 min, 24 h, 3.1 d, >999 d. At most 7 characters.
 */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return NONE;
  if (seconds < 0) return `-${formatDuration(-seconds)}`;
  if (seconds < 0.9995) return `${Math.round(seconds * 1000)} ms`;
  const units: readonly (readonly [number, string, number])[] = [
    [1, 's', 60],
    [60, 'min', 60],
    [3600, 'h', 48],
  ];
  for (const [size, unit, limit] of units) {
    const text = short(seconds / size);
    if (Number(text) < limit) return `${text} ${unit}`;
  }
  // Past 999 days a duration is a clock error or a run lost for years: a bound says enough.
  const days = short(seconds / 86400);
  return Number(days) < 1000 ? `${days} d` : '>999 d';
}

function short(v: number): string {
  return v < 9.95 ? v.toFixed(1) : v.toFixed(0);
}

/**
 * A rate in [0, 1] as a percentage with one decimal. A rate that is not zero never reads
 * 0.0% (a single leaked run among many is still a leak) and one that is not 1 never reads
 * 100.0%.
 */
export function formatPercent(rate: number | null): string {
  if (rate === null || !Number.isFinite(rate)) return NONE;
  if (rate === 0) return '0%';
  if (rate === 1) return '100%';
  if (rate > 0 && rate < 0.0005) return '<0.1%';
  if (rate < 1 && rate > 0.9995) return '>99.9%';
  return `${(rate * 100).toFixed(1)}%`;
}

/** How much faster than by hand: "38x faster than by hand", or slower when below 1. */
export function formatSpeedup(speedup: number): string {
  if (!Number.isFinite(speedup) || speedup <= 0) return NONE;
  if (speedup >= 1) return `${times(speedup)} faster than by hand`;
  return `${times(1 / speedup)} slower than by hand`;
}

function times(x: number): string {
  return `${x >= 9.95 ? (x < 1e6 ? grouped(Math.round(x), 0) : scaled(x, 0)) : x.toFixed(1)}x`;
}

const BARS = '▁▂▃▄▅▆▇█';

/**
 * A sparkline, one character per value, scaled to the largest. Zero is the lowest bar and any
 * value above zero at least the second, so a period with a single run never looks empty.
 */
export function sparkline(values: readonly number[]): string {
  const max = Math.max(0, ...values);
  return values
    .map((v) => {
      if (!(v > 0) || max === 0) return BARS[0];
      return BARS[1 + Math.round((v / max) * 6)];
    })
    .join('');
}

/**
 * An ISO time as a short UTC stamp (`2026-11-18 14:02:11Z`, or the date alone at midnight
 * when `dateAtMidnight`). Anything else is returned as it came: the caller escapes it.
 */
export function formatTime(iso: string, dateAtMidnight = false): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$/.exec(iso);
  if (!m) return iso;
  if (dateAtMidnight && m[2] === '00:00:00' && !/\.\d*[1-9]/.test(iso)) return m[1]!;
  return `${m[1]} ${m[2]}Z`;
}
