// FLUX_DEBUG_LOOP_DELAY's watcher: a loop blocked for 80 ms shows in the next line it logs.
import { expect, it } from 'vitest';
import { watchLoopDelay } from '../../src/daemon/loop-delay.js';

it('logs the p50, p99 and max delay of the event loop, and a stall shows in them', async () => {
  const lines: string[] = [];
  const stop = watchLoopDelay((line) => lines.push(line), 200);
  await new Promise((r) => setTimeout(r, 20));
  const until = performance.now() + 80;
  while (performance.now() < until) {
    // a synchronous stall, as a long write would make
  }
  for (let i = 0; i < 100 && lines.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  stop();
  expect(lines[0]).toMatch(/^event loop delay over 200 ms: p50 [\d.]+ ms, p99 [\d.]+ ms, max [\d.]+ ms$/);
  const max = Number(/max ([\d.]+) ms/.exec(lines[0]!)![1]);
  expect(max).toBeGreaterThanOrEqual(70);
});
