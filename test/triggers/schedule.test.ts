// The schedule planner: next fires in time zones across DST changes (tables of cron, zone, after
// → instants), the catch-up policies of dueFires, and a property test against a brute-force
// minute-by-minute oracle that applies the documented rules independently of the planner.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileSchedule, dueFires, fireKey, lateness, nextFire, scheduledForKey } from '../../src/triggers/schedule.js';
import { checkCron } from '../../src/workflow/cron.js';

const ms = (iso: string): number => Date.parse(iso);
const iso = (t: number | undefined): string => (t === undefined ? 'never' : new Date(t).toISOString().replace('.000Z', 'Z'));

/** The next `n` fires after `after`, as ISO strings in UTC without milliseconds. */
function fires(cron: string, zone: string | undefined, after: string, n: number): string[] {
  const out: string[] = [];
  let t: number | undefined = ms(after);
  for (let i = 0; i < n && t !== undefined; i++) {
    t = nextFire(cron, zone, t);
    out.push(iso(t));
  }
  return out;
}

describe('nextFire across DST changes', () => {
  // [what, cron, zone, after, expected fires]
  const table: Array<[string, string, string, string, string[]]> = [
    // Europe/Berlin: CET→CEST at 2026-03-29 01:00Z (02:00→03:00), CEST→CET at 2026-10-25 01:00Z (03:00→02:00).
    ['Berlin spring: 02:30 does not exist, fires once at 03:00 CEST', '30 2 * * *', 'Europe/Berlin', '2026-03-28T12:00:00Z',
      ['2026-03-29T01:00:00Z', '2026-03-30T00:30:00Z']],
    ['Berlin spring: from the last second before the gap', '30 2 * * *', 'Europe/Berlin', '2026-03-29T00:59:59Z',
      ['2026-03-29T01:00:00Z']],
    ['Berlin spring: not again right after the gap', '30 2 * * *', 'Europe/Berlin', '2026-03-29T01:00:00Z',
      ['2026-03-30T00:30:00Z']],
    ['Berlin fall: 02:30 occurs twice, fires at the first (CEST)', '30 2 * * *', 'Europe/Berlin', '2026-10-24T12:00:00Z',
      ['2026-10-25T00:30:00Z', '2026-10-26T01:30:00Z']],
    ['Berlin fall: not again in the second pass when started there', '30 2 * * *', 'Europe/Berlin', '2026-10-25T01:10:00Z',
      ['2026-10-26T01:30:00Z']],
    ['Berlin spring: every 15 minutes, 01:45 CET then 03:00 CEST', '*/15 * * * *', 'Europe/Berlin', '2026-03-29T00:40:00Z',
      ['2026-03-29T00:45:00Z', '2026-03-29T01:00:00Z', '2026-03-29T01:15:00Z']],
    ['Berlin fall: every 15 minutes through both passes of 02:xx', '*/15 * * * *', 'Europe/Berlin', '2026-10-25T00:40:00Z',
      ['2026-10-25T00:45:00Z', '2026-10-25T01:00:00Z', '2026-10-25T01:15:00Z', '2026-10-25T01:30:00Z', '2026-10-25T01:45:00Z', '2026-10-25T02:00:00Z']],
    ['Berlin spring: every minute, 01:59 CET then 03:00 CEST', '* * * * *', 'Europe/Berlin', '2026-03-29T00:58:30Z',
      ['2026-03-29T00:59:00Z', '2026-03-29T01:00:00Z', '2026-03-29T01:01:00Z']],
    ['Berlin fall: every minute, 02:59 CEST then 02:00 CET', '* * * * *', 'Europe/Berlin', '2026-10-25T00:58:30Z',
      ['2026-10-25T00:59:00Z', '2026-10-25T01:00:00Z', '2026-10-25T01:01:00Z']],
    ['Berlin fall: hourly fires in both passes, an hour apart', '0 * * * *', 'Europe/Berlin', '2026-10-24T22:30:00Z',
      ['2026-10-24T23:00:00Z', '2026-10-25T00:00:00Z', '2026-10-25T01:00:00Z', '2026-10-25T02:00:00Z']],
    ['Berlin spring: @hourly, 01:00 CET then 03:00 CEST', '@hourly', 'Europe/Berlin', '2026-03-28T23:30:00Z',
      ['2026-03-29T00:00:00Z', '2026-03-29T01:00:00Z', '2026-03-29T02:00:00Z']],
    ['Berlin yearly on the spring-forward date: shifted in 2026 only', '30 2 29 3 *', 'Europe/Berlin', '2025-12-01T00:00:00Z',
      ['2026-03-29T01:00:00Z', '2027-03-29T00:30:00Z', '2028-03-29T00:30:00Z']],
    ['Berlin yearly on the fall-back date: first occurrence in 2026', '30 2 25 10 *', 'Europe/Berlin', '2025-12-01T00:00:00Z',
      ['2026-10-25T00:30:00Z', '2027-10-25T00:30:00Z', '2028-10-25T00:30:00Z']],
    // America/New_York: EST→EDT at 2026-03-08 07:00Z (02:00→03:00), EDT→EST at 2026-11-01 06:00Z (02:00→01:00).
    ['New York spring: 02:30 fires once at 03:00 EDT', '30 2 * * *', 'America/New_York', '2026-03-07T12:00:00Z',
      ['2026-03-08T07:00:00Z', '2026-03-09T06:30:00Z']],
    ['New York fall: 02:30 is not repeated, fires once', '30 2 * * *', 'America/New_York', '2026-10-31T12:00:00Z',
      ['2026-11-01T07:30:00Z', '2026-11-02T07:30:00Z']],
    ['New York fall: 01:30 occurs twice, fires at the first (EDT)', '30 1 * * *', 'America/New_York', '2026-10-31T12:00:00Z',
      ['2026-11-01T05:30:00Z', '2026-11-02T06:30:00Z']],
    ['New York spring: every 15 minutes', '*/15 * * * *', 'America/New_York', '2026-03-08T06:40:00Z',
      ['2026-03-08T06:45:00Z', '2026-03-08T07:00:00Z', '2026-03-08T07:15:00Z']],
    ['New York fall: every 15 minutes through both passes of 01:xx', '*/15 * * * *', 'America/New_York', '2026-11-01T05:40:00Z',
      ['2026-11-01T05:45:00Z', '2026-11-01T06:00:00Z', '2026-11-01T06:15:00Z']],
    ['New York spring: every minute, 01:59 EST then 03:00 EDT', '* * * * *', 'America/New_York', '2026-03-08T06:58:30Z',
      ['2026-03-08T06:59:00Z', '2026-03-08T07:00:00Z', '2026-03-08T07:01:00Z']],
    ['New York fall: every minute, 01:59 EDT then 01:00 EST', '* * * * *', 'America/New_York', '2026-11-01T05:58:30Z',
      ['2026-11-01T05:59:00Z', '2026-11-01T06:00:00Z', '2026-11-01T06:01:00Z']],
    // Australia/Lord_Howe shifts by 30 minutes: +10:30→+11 at 2026-10-03 15:30Z (02:00→02:30), back at 2026-04-04 15:00Z (02:00→01:30).
    ['Lord Howe spring: 02:15 does not exist, fires at 02:30', '15 2 * * *', 'Australia/Lord_Howe', '2026-10-02T16:00:00Z',
      ['2026-10-03T15:30:00Z', '2026-10-04T15:15:00Z']],
    ['Lord Howe spring: every 15 minutes', '*/15 * * * *', 'Australia/Lord_Howe', '2026-10-03T15:00:00Z',
      ['2026-10-03T15:15:00Z', '2026-10-03T15:30:00Z', '2026-10-03T15:45:00Z']],
    ['Lord Howe fall: every 15 minutes through the repeated half hour', '*/15 * * * *', 'Australia/Lord_Howe', '2026-04-04T14:40:00Z',
      ['2026-04-04T14:45:00Z', '2026-04-04T15:00:00Z', '2026-04-04T15:15:00Z', '2026-04-04T15:30:00Z']],
    ['Lord Howe fall: 01:45 occurs twice, fires at the first', '45 1 * * *', 'Australia/Lord_Howe', '2026-04-04T12:00:00Z',
      ['2026-04-04T14:45:00Z', '2026-04-05T15:15:00Z']],
    // No DST.
    ['Asia/Kolkata, +05:30', '0 9 * * *', 'Asia/Kolkata', '2026-03-29T00:00:00Z', ['2026-03-29T03:30:00Z', '2026-03-30T03:30:00Z']],
    ['UTC by default', '30 2 * * *', 'UTC', '2026-03-29T00:00:00Z', ['2026-03-29T02:30:00Z', '2026-03-30T02:30:00Z']],
  ];
  for (const [what, cron, zone, after, expected] of table) {
    it(what, () => expect(fires(cron, zone, after, expected.length)).toEqual(expected));
  }
});

describe('nextFire fields and macros', () => {
  it('fires strictly after `after`, on whole seconds', () => {
    expect(iso(nextFire('0 * * * *', undefined, ms('2026-01-01T10:00:00Z')))).toBe('2026-01-01T11:00:00Z');
    expect(iso(nextFire('0 * * * *', undefined, ms('2026-01-01T09:59:59.999Z')))).toBe('2026-01-01T10:00:00Z');
  });
  it('skips months without day 31', () => {
    expect(fires('0 0 31 * *', 'UTC', '2026-01-31T00:00:00Z', 4)).toEqual(['2026-03-31T00:00:00Z', '2026-05-31T00:00:00Z', '2026-07-31T00:00:00Z', '2026-08-31T00:00:00Z']);
  });
  it('finds Feb 29 in the next leap year', () => {
    expect(fires('0 0 29 2 *', 'UTC', '2026-01-01T00:00:00Z', 2)).toEqual(['2028-02-29T00:00:00Z', '2032-02-29T00:00:00Z']);
  });
  it('needs both day fields when both are restricted (Friday the 13th)', () => {
    expect(fires('0 0 13 * 5', 'UTC', '2026-01-01T00:00:00Z', 3)).toEqual(['2026-02-13T00:00:00Z', '2026-03-13T00:00:00Z', '2026-11-13T00:00:00Z']);
    expect(fires('0 12 1 * MON', 'Europe/Berlin', '2026-01-01T00:00:00Z', 2)).toEqual(['2026-06-01T10:00:00Z', '2027-02-01T11:00:00Z']);
  });
  it('reads the macros', () => {
    const after = '2026-05-15T10:30:00Z';
    expect(fires('@yearly', 'UTC', after, 1)).toEqual(['2027-01-01T00:00:00Z']);
    expect(fires('@annually', 'UTC', after, 1)).toEqual(['2027-01-01T00:00:00Z']);
    expect(fires('@monthly', 'UTC', after, 1)).toEqual(['2026-06-01T00:00:00Z']);
    expect(fires('@weekly', 'UTC', after, 1)).toEqual(['2026-05-17T00:00:00Z']);
    expect(fires('@daily', 'Europe/Berlin', after, 1)).toEqual(['2026-05-15T22:00:00Z']);
    expect(fires('@midnight', 'UTC', after, 1)).toEqual(['2026-05-16T00:00:00Z']);
    expect(fires('@hourly', 'UTC', after, 1)).toEqual(['2026-05-15T11:00:00Z']);
  });
  it('reads six fields with seconds first, across the Berlin gap', () => {
    expect(fires('*/20 * * * * *', 'Europe/Berlin', '2026-03-29T00:59:30Z', 3)).toEqual(['2026-03-29T00:59:40Z', '2026-03-29T01:00:00Z', '2026-03-29T01:00:20Z']);
    // 02:30:00, :20 and :40 do not exist that night: one fire at 03:00:00.
    expect(fires('*/20 30 2 * * *', 'Europe/Berlin', '2026-03-28T12:00:00Z', 2)).toEqual(['2026-03-29T01:00:00Z', '2026-03-30T00:30:00Z']);
  });
  it('reads names, steps, ranges and node-cron tokens as the linter does', () => {
    expect(fires('0 9 * * MON-FRI', 'UTC', '2026-05-15T10:00:00Z', 2)).toEqual(['2026-05-18T09:00:00Z', '2026-05-19T09:00:00Z']);
    expect(fires('0 0 L * *', 'UTC', '2026-02-01T00:00:00Z', 2)).toEqual(['2026-02-28T00:00:00Z', '2026-03-31T00:00:00Z']);
    expect(fires('0 0 * * 1#2', 'UTC', '2026-01-01T00:00:00Z', 1)).toEqual(['2026-01-12T00:00:00Z']);
    expect(fires('0 0 * * 5L', 'UTC', '2026-01-01T00:00:00Z', 1)).toEqual(['2026-01-30T00:00:00Z']);
    expect(fires('0 0 15W * *', 'UTC', '2026-02-01T00:00:00Z', 1)).toEqual(['2026-02-16T00:00:00Z']);
    expect(fires('10-50/20 */6 * JAN *', 'UTC', '2026-01-01T00:00:00Z', 4)).toEqual(['2026-01-01T00:10:00Z', '2026-01-01T00:30:00Z', '2026-01-01T00:50:00Z', '2026-01-01T06:10:00Z']);
  });
  it('finds a Monday Feb 29 decades apart, skipping 2100', () => {
    expect(fires('0 0 29 2 1', 'Europe/Berlin', '2026-01-01T00:00:00Z', 3)).toEqual(['2044-02-28T23:00:00Z', '2072-02-28T23:00:00Z', '2112-02-28T23:00:00Z']);
  });
  it('returns undefined for a valid cron that never matches, after a bounded search', () => {
    for (const cron of ['0 0 31W 4 *', '0 0 L-30 2 *']) {
      expect(checkCron(cron).valid, cron).toBe(true);
      for (const zone of ['UTC', 'America/New_York']) expect(nextFire(cron, zone, ms('2026-01-01T00:00:00Z')), `${cron} ${zone}`).toBeUndefined();
    }
  });
  it('refuses an invalid cron, zone or instant with flux messages', () => {
    expect(() => nextFire('0 25 * * *', 'UTC', 0)).toThrow('invalid cron `0 25 * * *`: hour field `25` must be within 0-23');
    expect(() => nextFire('@reboot', 'UTC', 0)).toThrow(/not supported/);
    expect(() => nextFire('0 * * * *', 'Mars/Olympus', 0)).toThrow('unknown time zone `Mars/Olympus`');
    expect(() => nextFire('0 * * * *', 'UTC', Number.NaN)).toThrow(RangeError);
  });
});

describe('dueFires', () => {
  // 09:00 in Berlin (07:00Z in June); last fired Monday 1 June, down until Thursday.
  const daily = { cron: '0 9 * * *', timezone: 'Europe/Berlin', lastFire: ms('2026-06-01T07:00:00Z') };
  it('with the daemon down for 3 days and back 30 s after a fire: on time runs, older ones per catch_up', () => {
    const now = ms('2026-06-04T07:00:30Z');
    expect(dueFires({ ...daily, catchUp: 'none', now })).toEqual({ fires: [ms('2026-06-04T07:00:00Z')], missed: 2, missedExact: true });
    expect(dueFires({ ...daily, catchUp: 'latest', now })).toEqual({ fires: [ms('2026-06-04T07:00:00Z')], missed: 2, missedExact: true });
    expect(dueFires({ ...daily, catchUp: 'all', now }).fires.map(iso)).toEqual(['2026-06-02T07:00:00Z', '2026-06-03T07:00:00Z', '2026-06-04T07:00:00Z']);
  });
  it('back 5 minutes after a fire: none drops all three, latest runs one', () => {
    const now = ms('2026-06-04T07:05:00Z');
    expect(dueFires({ ...daily, catchUp: 'none', now })).toEqual({ fires: [], missed: 3, missedExact: true });
    expect(dueFires({ ...daily, catchUp: 'latest', now })).toEqual({ fires: [ms('2026-06-04T07:00:00Z')], missed: 2, missedExact: true });
    expect(dueFires({ ...daily, catchUp: 'all', now })).toEqual({ fires: [ms('2026-06-02T07:00:00Z'), ms('2026-06-03T07:00:00Z'), ms('2026-06-04T07:00:00Z')], missed: 0, missedExact: true });
  });
  it('all respects the cap, keeping the newest fires oldest first, and counts the rest', () => {
    const lastFire = ms('2026-06-01T00:00:00Z');
    const now = ms('2026-06-04T00:00:10Z');
    const r = dueFires({ cron: '* * * * *', catchUp: 'all', lastFire, now, cap: 100 });
    expect(r.fires).toHaveLength(100);
    expect(iso(r.fires[0])).toBe('2026-06-03T22:21:00Z');
    expect(iso(r.fires[99])).toBe('2026-06-04T00:00:00Z');
    expect(r.missed).toBe(3 * 24 * 60 - 100);
    expect(dueFires({ cron: '* * * * *', catchUp: 'none', lastFire, now }).missed).toBe(3 * 24 * 60 - 1);
    expect(dueFires({ cron: '* * * * *', catchUp: 'all', lastFire, now, cap: 3 }).fires.map(iso)).toEqual(['2026-06-03T23:58:00Z', '2026-06-03T23:59:00Z', '2026-06-04T00:00:00Z']);
  });
  it('is deterministic: the same inputs give the same instants and keys', () => {
    const input = { cron: '*/15 * * * *', timezone: 'America/New_York', catchUp: 'all' as const, lastFire: ms('2026-10-30T00:00:00Z'), now: ms('2026-11-02T00:00:00Z') };
    const a = dueFires(input).fires.map((t) => fireKey('nightly-report', t));
    const b = dueFires({ ...input }).fires.map((t) => fireKey('nightly-report', t));
    expect(a).toEqual(b);
    expect(new Set(a).size).toBe(100);
    expect(a[99]).toBe('nightly-report@2026-11-02T00:00:00.000Z');
  });
  it('a schedule never planned before counts no history', () => {
    expect(dueFires({ cron: '* * * * *', catchUp: 'all', lastFire: undefined, now: ms('2026-06-04T00:00:30Z') })).toEqual({ fires: [ms('2026-06-04T00:00:00Z')], missed: 0, missedExact: true });
    expect(dueFires({ cron: '0 0 * * *', catchUp: 'all', lastFire: undefined, now: ms('2026-06-04T12:00:00Z') })).toEqual({ fires: [], missed: 0, missedExact: true });
  });
  it('nothing is due twice when the next tick passes this now as lastFire', () => {
    const first = dueFires({ cron: '*/10 * * * * *', catchUp: 'all', lastFire: ms('2026-06-04T00:00:00Z'), now: ms('2026-06-04T00:00:25Z') });
    const second = dueFires({ cron: '*/10 * * * * *', catchUp: 'all', lastFire: ms('2026-06-04T00:00:25Z'), now: ms('2026-06-04T00:00:31Z') });
    expect(first.fires.map(iso)).toEqual(['2026-06-04T00:00:10Z', '2026-06-04T00:00:20Z']);
    expect(second.fires.map(iso)).toEqual(['2026-06-04T00:00:30Z']);
  });
  it('stops counting at the scan limit and still runs the newest fires', () => {
    const r = dueFires({ cron: '*/10 * * * * *', catchUp: 'all', lastFire: ms('2026-06-01T00:00:00Z'), now: ms('2026-06-02T00:00:05Z'), graceMs: 0, cap: 5, scanLimit: 1000 });
    expect(r.fires.map(iso)).toEqual(['2026-06-01T23:59:20Z', '2026-06-01T23:59:30Z', '2026-06-01T23:59:40Z', '2026-06-01T23:59:50Z', '2026-06-02T00:00:00Z']);
    expect(r.missedExact).toBe(false);
    expect(r.missed).toBeGreaterThanOrEqual(1000);
    expect(r.missed).toBeLessThan(8640);
    const latest = dueFires({ cron: '*/10 * * * * *', catchUp: 'latest', lastFire: ms('2026-06-01T00:00:00Z'), now: ms('2026-06-02T00:00:05Z'), graceMs: 0, scanLimit: 1000 });
    expect(latest.fires.map(iso)).toEqual(['2026-06-02T00:00:00Z']);
  });
  it('refuses a bad cap', () => {
    expect(() => dueFires({ cron: '* * * * *', catchUp: 'all', lastFire: 0, now: 1, cap: 0 })).toThrow(/cap must be/);
  });
});

describe('keys and lateness', () => {
  it('keys a fire by workflow and UTC ISO instant', () => {
    expect(scheduledForKey(ms('2026-03-29T01:00:00Z'))).toBe('2026-03-29T01:00:00.000Z');
    expect(fireKey('backup', ms('2026-03-29T01:00:00Z'))).toBe('backup@2026-03-29T01:00:00.000Z');
    expect(lateness(1000, 1250)).toBe(250);
  });
});

// ---- property test against an independent brute-force oracle ----

const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata'];
/** DST changes of 2026-2027 in the zones above: windows around them get most of the cases. */
const CHANGES = ['2026-03-08T07:00:00Z', '2026-11-01T06:00:00Z', '2026-03-29T01:00:00Z', '2026-10-25T01:00:00Z', '2026-04-04T15:00:00Z', '2026-10-03T15:30:00Z',
  '2027-03-14T07:00:00Z', '2027-11-07T06:00:00Z', '2027-03-28T01:00:00Z', '2027-10-31T01:00:00Z', '2027-04-03T15:00:00Z', '2027-10-02T15:30:00Z'].map(ms);

const part = (lo: number, hi: number): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constant('*'),
    fc.integer({ min: 1, max: Math.min(30, hi) }).map((n) => `*/${n}`),
    fc.integer({ min: lo, max: hi }).map(String),
    fc.tuple(fc.integer({ min: lo, max: hi }), fc.integer({ min: lo, max: hi })).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
    fc.tuple(fc.integer({ min: lo, max: hi }), fc.integer({ min: lo, max: hi })).map(([a, b]) => `${a},${b}`),
  );
const cronArb = fc
  .record({
    minute: part(0, 59),
    // Hours around the changes (01:00-03:00 local) often, so fixed-time crons meet the gaps and repeats.
    hour: fc.oneof({ weight: 2, arbitrary: part(0, 23) }, { weight: 1, arbitrary: fc.constantFrom('1', '2', '1-3', '2,14', '0-2') }), dom: fc.oneof({ weight: 3, arbitrary: fc.constant('*') }, { weight: 1, arbitrary: part(1, 31) }), month: fc.oneof({ weight: 3, arbitrary: fc.constant('*') }, { weight: 1, arbitrary: part(1, 12) }), dow: fc.oneof({ weight: 3, arbitrary: fc.constant('*') }, { weight: 1, arbitrary: part(0, 6) }) })
  .map((f) => `${f.minute} ${f.hour} ${f.dom} ${f.month} ${f.dow}`)
  .filter((c) => checkCron(c).valid);

function expand(field: string, lo: number, hi: number): Set<number> {
  const out = new Set<number>();
  for (const p of field.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(p)!;
    const a = m[1] === '*' ? lo : Number(m[2]);
    const b = m[1] === '*' ? hi : m[3] !== undefined ? Number(m[3]) : a;
    for (let v = a; v <= b; v += Number(m[4] ?? 1)) out.add(v);
  }
  return out;
}

const formats = new Map<string, Intl.DateTimeFormat>();
/** Local wall time of `t` in `zone` as [ms as if UTC, weekday]. */
function wall(t: number, zone: string): [number, number] {
  let f = formats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formats.set(zone, f);
  }
  const p = Object.fromEntries(f.formatToParts(t).map((x) => [x.type, Number(x.value)]));
  const w = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return [w, new Date(w).getUTCDay()];
}

function matcher(cron: string): (w: number) => boolean {
  const [mi, h, dom, mon, dow] = cron.split(' ') as [string, string, string, string, string];
  const sets = [expand(mi, 0, 59), expand(h, 0, 23), expand(dom, 1, 31), expand(mon, 1, 12), expand(dow, 0, 6)];
  return (w) => {
    const d = new Date(w);
    return sets[0]!.has(d.getUTCMinutes()) && sets[1]!.has(d.getUTCHours()) && sets[2]!.has(d.getUTCDate()) && sets[3]!.has(d.getUTCMonth() + 1) && sets[4]!.has(d.getUTCDay());
  };
}

/**
 * The documented rules, minute by minute: a minute whose wall time matches fires, except a
 * second occurrence of a wall time for a fixed-time cron; the first minute after a gap fires when
 * a skipped wall time matched.
 */
function oracle(cron: string, zone: string, from: number, to: number): number[] {
  const matches = matcher(cron);
  const fixed = !cron.split(' ')[0]!.startsWith('*') && !cron.split(' ')[1]!.startsWith('*');
  const seen = new Set<number>();
  const out: number[] = [];
  let prevWall: number | undefined;
  for (let t = Math.floor(from / 60_000) * 60_000 - 3 * 3_600_000; t <= to; t += 60_000) {
    const [w] = wall(t, zone);
    let fire = matches(w) && !(fixed && seen.has(w));
    if (!fire && prevWall !== undefined && w - prevWall > 60_000) {
      for (let g = prevWall + 60_000; g < w && !fire; g += 60_000) fire = matches(g);
    }
    seen.add(w);
    prevWall = w;
    if (fire && t > from) out.push(t);
  }
  return out;
}

describe('nextFire properties', () => {
  it('matches a brute-force oracle of the documented rules around DST changes and elsewhere', () => {
    const near = fc.tuple(fc.constantFrom(...CHANGES), fc.integer({ min: -4 * 3600, max: 4 * 3600 })).map(([c, s]) => c + s * 1000);
    const anywhere = fc.integer({ min: ms('2026-01-01T00:00:00Z'), max: ms('2027-12-31T00:00:00Z') });
    fc.assert(
      fc.property(cronArb, fc.constantFrom(...ZONES), fc.oneof(near, anywhere), (cron, zone, after) => {
        const to = after + 6 * 3_600_000;
        const got: number[] = [];
        for (let t = nextFire(cron, zone, after); t !== undefined && t <= to; t = nextFire(cron, zone, t)) got.push(t);
        expect(got.map(iso)).toEqual(oracle(cron, zone, after, to).map(iso));
      }),
      { numRuns: 200 },
    );
  });

  it('is strictly increasing, never repeats, and lands on matching wall times (or right after a gap)', () => {
    fc.assert(
      fc.property(cronArb, fc.constantFrom(...ZONES), fc.integer({ min: ms('2026-01-01T00:00:00Z'), max: ms('2027-12-31T00:00:00Z') }), (cron, zone, after) => {
        const schedule = compileSchedule(cron, zone);
        const matches = matcher(cron);
        const seen = new Set<number>();
        let prev = after;
        for (let i = 0; i < 40; i++) {
          const t = schedule.next(prev);
          if (t === undefined) break;
          expect(t).toBeGreaterThan(prev);
          expect(t % 1000).toBe(0);
          expect(seen.has(t)).toBe(false);
          seen.add(t);
          const [w] = wall(t, zone);
          if (!matches(w)) {
            // Only the first instant after a spring-forward gap may carry a skipped wall time.
            const [before] = wall(t - 1000, zone);
            expect(w - before).toBeGreaterThan(1000);
          }
          prev = t;
        }
      }),
      { numRuns: 200 },
    );
  });
});
