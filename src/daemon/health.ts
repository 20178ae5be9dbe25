/**
 * What `GET /healthz` answers: the daemon is healthy when each of its loops (the claim loop,
 * and the scheduler once it has one) has beaten recently and its last beat was not a failure.
 * The claim loop beats after each claim transaction, which takes the store's write lock, so a
 * beat also says the store is writable; a claim that fails (the disk is full, another process
 * holds the write lock past the busy timeout) marks it unhealthy until the next one succeeds.
 *
 * Liveness is measured on the real monotonic clock, not the daemon's injected one: a test
 * clock stands still, and a loop that stopped is stopped whatever time a test pretends it is.
 */

/** The verdict: healthy, or the reasons it is not (one per loop). */
export type HealthVerdict = { readonly ok: true } | { readonly ok: false; readonly problems: readonly string[] };

/** One loop's heartbeat. */
export interface Heartbeat {
  /** The loop did its work (and touched the store, when it does). */
  beat(): void;
  /** The loop's work failed; unhealthy until the next beat. */
  fail(reason: string): void;
}

/** A loop that has not beaten for this long is reported stalled. */
export const DEFAULT_STALE_MS = 5000;

/** The daemon's loops and their last beats. */
export class Health {
  private readonly loops = new Map<string, { at: number; failure?: string }>();

  constructor(private readonly staleMs = DEFAULT_STALE_MS, private readonly now: () => number = () => performance.now()) {}

  /** Registers a loop by name (e.g. `claim loop`, `scheduler`); it counts as having beaten now. */
  heartbeat(name: string): Heartbeat {
    this.loops.set(name, { at: this.now() });
    return {
      beat: () => this.loops.set(name, { at: this.now() }),
      fail: (reason) => this.loops.set(name, { at: this.loops.get(name)?.at ?? this.now(), failure: reason }),
    };
  }

  /** Healthy, or why not. */
  check(): HealthVerdict {
    const problems: string[] = [];
    const now = this.now();
    for (const [name, state] of this.loops) {
      if (state.failure !== undefined) problems.push(`${name}: ${state.failure}`);
      else if (now - state.at > this.staleMs) problems.push(`${name}: no beat for ${Math.round((now - state.at) / 1000)} s`);
    }
    return problems.length === 0 ? { ok: true } : { ok: false, problems };
  }
}
