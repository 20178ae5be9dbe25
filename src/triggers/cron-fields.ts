/**
 * A cron expression compiled into lookup tables for the schedule planner. The fields are read by
 * node-cron's own parser (the one `flux lint` validates with), so names, ranges, steps, `?`, `L`,
 * `W`, `L-n`, `nL` and `n#k` mean exactly what the linter accepted; flux's stricter checks
 * (checkCron) run first. Day-of-month and day-of-week must BOTH match, as node-cron and the
 * `cron-day-fields` lint rule say (an unrestricted field matches every day).
 */
import { checkCron, nodeCron } from '../workflow/cron.js';

interface ParsedFields {
  second: number[];
  minute: number[];
  hour: number[];
  dayOfMonth: Array<number | string>;
  month: number[];
  dayOfWeek: Array<number | string>;
}

function parse(expression: string): ParsedFields {
  return nodeCron().parse(expression) as ParsedFields;
}

/** A compiled cron: per-field tables answering "the first allowed value at or after v". */
export interface CronFields {
  readonly expression: string;
  /** `nextSecond[v]`: the first allowed second >= v, or -1. Likewise minutes and hours. */
  readonly nextSecond: Int8Array;
  readonly nextMinute: Int8Array;
  readonly nextHour: Int8Array;
  /** `nextMonth[m]` (1-12): the first allowed month >= m, or -1. */
  readonly nextMonth: Int8Array;
  /**
   * Vixie cron's "wildcard job": the minute or hour field starts with `*` (`*`, `*\/15`, and
   * @hourly). Such a schedule keeps real-time cadence in a repeated (fall-back) hour; a
   * fixed-time one fires once there.
   */
  readonly wildcard: boolean;
  /** Bit d-1 set when day d of (year, month) matches both day fields. */
  dayMask(year: number, month: number): number;
}

const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** Compiles a cron expression; throws a RangeError with flux's message when it is invalid. */
export function compileCron(expression: string): CronFields {
  const check = checkCron(expression);
  if (!check.valid) throw new RangeError(check.message ?? `invalid cron \`${expression}\``);
  const text = MACROS[expression.trim()] ?? expression.trim();
  const parts = text.split(/\s+/);
  const offset = parts.length === 6 ? 1 : 0;
  const wildcard = parts[offset]!.startsWith('*') || parts[offset + 1]!.startsWith('*');
  const p = parse(text);
  const dom = dayOfMonthMatcher(p.dayOfMonth);
  const dow = dayOfWeekMatcher(p.dayOfWeek);
  const masks = new Map<number, number>();
  return {
    expression,
    nextSecond: nextTable(p.second, 0, 59),
    nextMinute: nextTable(p.minute, 0, 59),
    nextHour: nextTable(p.hour, 0, 23),
    nextMonth: nextTable(p.month, 1, 12),
    wildcard,
    dayMask(year, month) {
      const key = year * 16 + month;
      let mask = masks.get(key);
      if (mask === undefined) {
        mask = dom(year, month) & dow(year, month);
        if (masks.size > 512) masks.clear();
        masks.set(key, mask);
      }
      return mask;
    },
  };
}

function nextTable(values: readonly number[], lo: number, hi: number): Int8Array {
  const table = new Int8Array(hi + 2).fill(-1);
  const allowed = new Set(values);
  let next = -1;
  for (let v = hi; v >= lo; v--) {
    if (allowed.has(v)) next = v;
    table[v] = next;
  }
  return table;
}

/** Days in `month` (1-12) of `year`. */
function daysInMonth(year: number, month: number): number {
  if (month !== 2) return MONTH_DAYS[month]!;
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
}

const MONTH_DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Weekday (0 Sunday) of the first day of `month` (1-12). */
function firstWeekday(year: number, month: number): number {
  return (Math.floor(Date.UTC(year, month - 1, 1) / 86_400_000) + 4) % 7;
}

function bit(day: number): number {
  return 1 << (day - 1);
}

const W_TOKEN = /^(\d{1,2}|L)W$/;
const L_OFFSET_TOKEN = /^L-(\d{1,2})$/;

/** Day-of-month as node-cron reads it: numbers, `L`, `nW`/`LW` (nearest weekday), `L-n`. */
function dayOfMonthMatcher(values: ReadonlyArray<number | string>): (year: number, month: number) => number {
  let plain = 0;
  const tokens: string[] = [];
  for (const v of values) {
    if (typeof v === 'number') plain |= bit(v);
    else tokens.push(v);
  }
  if (tokens.length === 0) return (year, month) => plain & (2 ** daysInMonth(year, month) - 1);
  return (year, month) => {
    const last = daysInMonth(year, month);
    let mask = plain & (2 ** last - 1);
    for (const token of tokens) {
      if (token === 'L') {
        mask |= bit(last);
        continue;
      }
      const w = W_TOKEN.exec(token);
      if (w) {
        const day = nearestWeekday(year, month, w[1] === 'L' ? last : Number(w[1]), last);
        if (day > 0) mask |= bit(day);
        continue;
      }
      const l = L_OFFSET_TOKEN.exec(token);
      if (l && last - Number(l[1]) >= 1) mask |= bit(last - Number(l[1]));
    }
    return mask;
  };
}

/** node-cron's nearest weekday: Saturday moves to Friday (Monday on the 1st), Sunday to Monday (Friday on the last day). */
function nearestWeekday(year: number, month: number, target: number, last: number): number {
  if (target < 1 || target > last) return -1;
  const weekday = new Date(Date.UTC(year, month - 1, target)).getUTCDay();
  if (weekday === 6) return target === 1 ? target + 2 : target - 1;
  if (weekday === 0) return target === last ? target - 2 : target + 1;
  return target;
}

const LAST_WEEKDAY = /^([0-7])L$/i;
const NTH_WEEKDAY = /^([0-7])#([1-5])$/;

/** Day-of-week as node-cron reads it: numbers (0 and 7 are Sunday), `nL` (last), `n#k` (k-th). */
function dayOfWeekMatcher(values: ReadonlyArray<number | string>): (year: number, month: number) => number {
  let weekdays = 0;
  const last: number[] = [];
  const nth: Array<readonly [number, number]> = [];
  for (const v of values) {
    if (typeof v === 'number') {
      weekdays |= 1 << (v % 7);
      continue;
    }
    const l = LAST_WEEKDAY.exec(v);
    if (l) last.push(Number(l[1]) % 7);
    const n = NTH_WEEKDAY.exec(v);
    if (n) nth.push([Number(n[1]) % 7, Number(n[2])]);
  }
  // Plain weekdays: one mask per weekday of the 1st, cut to the month's length.
  const byFirst = Array.from({ length: 7 }, (_, first) => {
    let mask = 0;
    for (let day = 1; day <= 31; day++) if (weekdays & (1 << ((first + day - 1) % 7))) mask |= bit(day);
    return mask;
  });
  if (last.length === 0 && nth.length === 0) {
    return (year, month) => byFirst[firstWeekday(year, month)]! & (2 ** daysInMonth(year, month) - 1);
  }
  return (year, month) => {
    const days = daysInMonth(year, month);
    const first = firstWeekday(year, month);
    let mask = 0;
    for (let day = 1; day <= days; day++) {
      const weekday = (first + day - 1) % 7;
      if (weekdays & (1 << weekday)) mask |= bit(day);
      else if (last.includes(weekday) && day + 7 > days) mask |= bit(day);
      else if (nth.some(([wd, k]) => wd === weekday && Math.floor((day - 1) / 7) + 1 === k)) mask |= bit(day);
    }
    return mask;
  };
}
