// Cron messages: each mistake is named for what it is, not as a neighbouring one.
import { describe, expect, it } from 'vitest';
import { checkCron } from '../../src/workflow/cron.js';

function message(expression: string): string {
  const r = checkCron(expression);
  expect(r.valid, `${expression} should be invalid`).toBe(false);
  return r.message ?? '';
}

describe('checkCron', () => {
  it('says a zero step must be at least 1, in any field', () => {
    expect(message('*/0 * * * *')).toBe('invalid cron `*/0 * * * *`: minute field `*/0` has the step `/0`; a step must be at least 1');
    expect(message('0 1-5/0 * * *')).toMatch(/^invalid cron .*: hour field `1-5\/0` has the step `\/0`; a step must be at least 1$/);
    expect(message('*/0 0 * * * *')).toMatch(/seconds field `\*\/0` has the step/);
  });
  it('rejects a backwards range and shows how to write a wrap-around', () => {
    expect(message('5-1 * * * *')).toBe('invalid cron `5-1 * * * *`: minute field `5-1` has the backwards range `5-1`; write the smaller number first, or two ranges such as `5-59,0-1`');
    expect(message('0 22-2 * * *')).toMatch(/hour field `22-2` has the backwards range `22-2`; .* `22-23,0-2`$/);
    expect(message('0 9 * * 1,5-3')).toMatch(/day-of-week field `1,5-3` has the backwards range `5-3`/);
  });
  it('names unsupported macros and lists the supported ones', () => {
    expect(message('@reboot')).toBe('cron `@reboot` is not supported; use one of @yearly (or @annually), @monthly, @weekly, @daily (or @midnight), @hourly, or five fields (minute hour day-of-month month day-of-week)');
    expect(message('@every 5m')).toMatch(/^cron `@every` is not supported/);
  });
  it('accepts the supported macros, ranges, steps and names', () => {
    for (const ok of ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly', '1-5 * * * *', '5-5 * * * *', '*/1 * * * *', '10-50/5 * * * *', '0 9 * * MON-FRI', '0 0 9 * * 1']) {
      expect(checkCron(ok).valid, ok).toBe(true);
    }
  });
  it('still explains values out of range and wrong field counts', () => {
    expect(message('0 25 * * *')).toBe('invalid cron `0 25 * * *`: hour field `25` must be within 0-23');
    expect(message('* * *')).toMatch(/has 3 fields/);
  });
});
