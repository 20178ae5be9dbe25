/**
 * Time, injected: the engine never reads the wall clock or sleeps directly, so tests can run
 * a 48-hour wait instantly and deterministically.
 */

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, Math.max(0, ms));
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason as Error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/**
 * A clock that skips time: every sleep returns at once and moves the clock forward by the time
 * slept, on top of a base clock (real time by default). Used by `flux demo`, where a 48-hour
 * reminder wait takes no time, and by tests; `sleeps` records each wait.
 */
export class SkippingClock implements Clock {
  readonly sleeps: number[] = [];
  private skipped = 0;
  constructor(private readonly base: () => number = Date.now) {}
  now(): number {
    return this.base() + this.skipped;
  }
  /** The time skipped so far, in milliseconds. */
  get skippedMs(): number {
    return this.skipped;
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw signal.reason as Error;
    this.sleeps.push(ms);
    this.skipped += Math.max(0, ms);
    await Promise.resolve();
  }
}
