// The unit of a time axis in the HTML report's charts: chosen by the largest value, so an
// automation answering in milliseconds gets ticks in ms rather than a column of "0 s".
import { describe, expect, it } from 'vitest';
import { timeUnit } from '../../src/metrics/format/html-charts.js';

describe('timeUnit', () => {
  it.each([
    [0, 'ms'], [0.009, 'ms'], [1.99, 'ms'], [2, 's'], [119, 's'], [120, 'min'], [7199, 'min'], [7200, 'h'], [3 * 86400 - 1, 'h'], [3 * 86400, 'd'],
  ])('%s s of response time is drawn in %s', (max, name) => {
    const unit = timeUnit(max);
    expect(unit.name).toBe(name);
    expect(unit.seconds).toBe({ ms: 0.001, s: 1, min: 60, h: 3600, d: 86400 }[name]);
  });
});
