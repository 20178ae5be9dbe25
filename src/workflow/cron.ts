/**
 * Cron expressions and time zones, checked the way the daemon's scheduler (node-cron) will read them.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The parts of node-cron flux uses: its check, and its parser (fields to value lists). */
export interface NodeCron {
  validate(expression: string): boolean;
  parse(expression: string): unknown;
}
let nodeCronModule: NodeCron | undefined;

/** node-cron, loaded on first use so workflows without a schedule never load it. */
export function nodeCron(): NodeCron {
  nodeCronModule ??= require('node-cron') as NodeCron;
  return nodeCronModule;
}

function validate(expression: string): boolean {
  return nodeCron().validate(expression);
}

export interface CronCheck {
  readonly valid: boolean;
  readonly message?: string;
  /** Both day-of-month and day-of-week are restricted: node-cron requires both to match (classic cron: either). */
  readonly domAndDow: boolean;
}

const MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);
const MACRO_LIST = '@yearly (or @annually), @monthly, @weekly, @daily (or @midnight), @hourly';

/** Checks a cron expression of five fields (or six, seconds first). */
export function checkCron(expression: string): CronCheck {
  let result = cronCache.get(expression);
  if (!result) {
    result = checkCronUncached(expression);
    if (cronCache.size > 1000) cronCache.clear();
    cronCache.set(expression, result);
  }
  return result;
}

const cronCache = new Map<string, CronCheck>();

function checkCronUncached(expression: string): CronCheck {
  const text = expression.trim();
  if (text.startsWith('@')) {
    if (MACROS.has(text)) return { valid: validate(text), domAndDow: false };
    // @reboot and friends are classic cron, but the scheduler has no notion of them.
    const macro = text.split(/\s+/)[0]!;
    return { valid: false, domAndDow: false, message: `cron \`${macro}\` is not supported; use one of ${MACRO_LIST}, or five fields (minute hour day-of-month month day-of-week)` };
  }
  const fields = text.split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    return { valid: false, domAndDow: false, message: `cron \`${expression}\` has ${fields.length} field${fields.length === 1 ? '' : 's'}; write five (minute hour day-of-month month day-of-week) or six with seconds first` };
  }
  // Checked before the scheduler's own validation: it rejects a zero step with no reason and
  // accepts a backwards range such as 5-1, which is a mistake either way.
  const shape = explainShape(fields);
  if (shape !== undefined) return { valid: false, domAndDow: false, message: `invalid cron \`${expression}\`: ${shape}` };
  if (!validate(text)) {
    return { valid: false, domAndDow: false, message: `invalid cron \`${expression}\`: ${explainCron(fields)}` };
  }
  const offset = fields.length === 6 ? 1 : 0;
  const dom = fields[offset + 2]!;
  const dow = fields[offset + 4]!;
  return { valid: true, domAndDow: !isWildcard(dom) && !isWildcard(dow) };
}

/** A zero step or a backwards range in any numeric field, said in words; undefined when there is none. */
function explainShape(fields: readonly string[]): string | undefined {
  const named = fields.length === 6 ? ['seconds', ...FIELD_NAMES] : FIELD_NAMES;
  const ranges = fields.length === 6 ? [[0, 59] as const, ...RANGES] : RANGES;
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    const [lo, hi] = ranges[i]!;
    for (const part of field.split(',')) {
      const m = /^(?:\*|(\d+)(?:-(\d+))?)\/(\d+)$/.exec(part) ?? /^(\d+)-(\d+)$/.exec(part);
      if (!m) continue;
      const step = m[3];
      if (step !== undefined && Number(step) < 1) return `${named[i]} field \`${field}\` has the step \`/${step}\`; a step must be at least 1`;
      const from = m[1];
      const to = m[2];
      if (from !== undefined && to !== undefined && Number(from) > Number(to)) {
        return `${named[i]} field \`${field}\` has the backwards range \`${from}-${to}\`; write the smaller number first, or two ranges such as \`${from}-${hi},${lo}-${to}\``;
      }
    }
  }
  return undefined;
}

function isWildcard(field: string): boolean {
  return field === '*' || field === '?';
}

const FIELD_NAMES = ['minute', 'hour', 'day-of-month', 'month', 'day-of-week'];
const RANGES: ReadonlyArray<readonly [number, number]> = [[0, 59], [0, 23], [1, 31], [1, 12], [0, 7]];

function explainCron(fields: string[]): string {
  const offset = fields.length === 6 ? 1 : 0;
  if (offset === 1 && !fieldFits(fields[0]!, 0, 59)) return `seconds field \`${fields[0]}\` must be 0-59`;
  for (let i = 0; i < 5; i++) {
    const f = fields[i + offset]!;
    const [lo, hi] = RANGES[i]!;
    if (!fieldFits(f, lo, hi) && !(i >= 3 && /^[A-Za-z]{3}/.test(f))) return `${FIELD_NAMES[i]} field \`${f}\` must be within ${lo}-${hi}`;
  }
  return 'a field has a value the scheduler does not accept';
}

function fieldFits(field: string, lo: number, hi: number): boolean {
  return field.split(',').every((part) => {
    const m = /^(\*|\?|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!m) return false;
    const nums = [m[2], m[3]].filter((n): n is string => n !== undefined).map(Number);
    return nums.every((n) => n >= lo && n <= hi) && (m[4] === undefined || Number(m[4]) > 0);
  });
}

/** True when `zone` is an IANA time zone this Node runtime knows. */
export function isValidTimezone(zone: string): boolean {
  let valid = zoneCache.get(zone);
  if (valid === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone });
      valid = true;
    } catch {
      valid = false;
    }
    zoneCache.set(zone, valid);
  }
  return valid;
}

// Building a DateTimeFormat is slow; a repository uses only a handful of zones.
const zoneCache = new Map<string, boolean>();
