/**
 * The event loop's delay, watched: a daemon whose loop stalls (a long synchronous write, a
 * burst of work) fires its timers late and answers every request late. With
 * `FLUX_DEBUG_LOOP_DELAY=1` in its environment the daemon logs, once a second, how late the
 * loop ran over that second (p50, p99, max), so a benchmark or an operator can see it under
 * load. Off by default: the sampling timer costs little, but the line each second is noise.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

/** Starts logging the loop delay every `everyMs`; returns the function that stops it. */
export function watchLoopDelay(log: (line: string) => void, everyMs = 1000): () => void {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const ms = (ns: number) => (ns / 1e6).toFixed(1);
  const timer = setInterval(() => {
    if (histogram.count > 0) {
      log(`event loop delay over ${everyMs} ms: p50 ${ms(histogram.percentile(50))} ms, p99 ${ms(histogram.percentile(99))} ms, max ${ms(histogram.max)} ms`);
    }
    histogram.reset();
  }, everyMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    histogram.disable();
  };
}
