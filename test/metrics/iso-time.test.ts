// The fast reader of record times gives exactly what Date.parse gives: on flux's own form, on
// every edge of its ranges, on other ISO forms and on garbage, in any order (the day cache).
import { describe, expect, it } from 'vitest';
import { parseTime } from '../../src/metrics/iso-time.js';
import { seededRandom } from '../seeded-random.js';

const random = seededRandom;

const same = (s: string) => expect(Object.is(parseTime(s), Date.parse(s)), s).toBe(true);

describe('parseTime', () => {
  it('reads flux times as Date.parse does, across days, months, leap years and centuries', () => {
    const r = random(5);
    for (let i = 0; i < 20_000; i++) {
      // Runs of a few records on one day, then a jump anywhere from year 0 to 9999.
      const t = i % 7 === 0 ? Math.floor(r() * 253_402_300_799_999) : Date.UTC(2026, 10, 16) + Math.floor(r() * 86_400_000 * 3);
      const s = new Date(t).toISOString();
      expect(parseTime(s), s).toBe(t);
    }
    for (const s of ['2024-02-29T23:59:59.999Z', '2000-02-29T00:00:00.000Z', '1970-01-01T00:00:00.000Z', '0000-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z']) same(s);
  });

  it('leaves every doubtful field to Date.parse, and agrees with it', () => {
    const cases = [
      '2026-02-29T10:00:00.000Z', '2023-02-29T10:00:00.000Z', '2026-02-30T10:00:00.000Z', '2026-04-31T00:00:00.000Z', '2026-13-01T00:00:00.000Z',
      '2026-00-10T00:00:00.000Z', '2026-11-00T00:00:00.000Z', '2026-11-16T24:00:00.000Z', '2026-11-16T23:60:00.000Z', '2026-11-16T23:59:60.000Z',
      '2026-11-16T2:00:00.0000Z', '2026-11-16T1a:00:00.000Z', '2026-11-16T10:00:00.00aZ', '2026-11-16T10:00:00.-01Z', '2026-1x-16T10:00:00.000Z',
      '2026-11-16 10:00:00.000Z', '2026-11-16T10:00:00.000+', '2026-11-16T10:00:00Z', '2026-11-16T10:00:00.000+01:00', '2026-11-16', 'yesterday', '',
      '+002026-11-16T10:00:00.000Z', '-000001-01-01T00:00:00.000Z', '2026-11-16t10:00:00.000z', '２０２６-11-16T10:00:00.000Z',
      'Mon 16 Nov T10:00:00.000Z', '2026/11/16T10:00:00.000Z', '2026-11-16T10:00:00.000Z'.replace('-', ' '),
    ];
    // Damage to a day just read must not be taken for that day.
    cases.push('20x6-11-16T10:00:00.000Z', '2026x11-16T10:00:00.000Z', '2026-11x16T10:00:00.000Z', '2026-11-1xT10:00:00.000Z', '1999-11-16T10:00:00.000Z');
    for (const s of cases) {
      // Before and after a valid time of the same day, so the day cache is both cold and warm.
      parseTime('2026-11-16T00:00:00.000Z');
      same(s);
      parseTime('1999-11-16T00:00:00.000Z');
      same(s);
      parseTime('2020-01-01T00:00:00.000Z');
      same(s);
    }
    expect(parseTime('2026-11-16T24:00:00.000Z')).toBe(Date.parse('2026-11-16T24:00:00.000Z'));
    expect(parseTime('2026-11-16T10:00:00.00aZ')).toBeNaN();
  });
});
