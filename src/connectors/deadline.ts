/**
 * The bound on one connector attempt: a signal that aborts when the run is cancelled or when
 * the attempt's time is up, whichever comes first.
 *
 * Not `AbortSignal.any([signal, AbortSignal.timeout(ms)])`: on Node 20 the timeout signal is
 * held only weakly by the combined one, so it can be garbage-collected mid-request and its
 * timer never fires (a 3 s timeout ran for 5 minutes). Here the timer is a plain `setTimeout`
 * this object holds and clears, and the link to the parent signal is a listener removed on
 * dispose, so a run with thousands of steps does not pile listeners onto its cancel signal.
 */

/**
 * How long a call that tells a person something (an escalation, its `then` call, an approval
 * request or reminder) may take unless its connection sets a `timeout`: the owner must hear of
 * a failure soon, and a hung chat service must not hold the run or the daemon's watcher.
 */
export const NOTIFY_TIMEOUT_MS = 30_000;

/** The longest delay setTimeout honours. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** One attempt's deadline; call `dispose` when the attempt ends, however it ends. */
export interface Deadline {
  /** Aborted when the parent is aborted or the time runs out. */
  readonly signal: AbortSignal;
  /** True once the time ran out (as opposed to the parent being aborted). */
  readonly expired: boolean;
  /** Clears the timer and unlinks the parent signal. */
  dispose(): void;
}

/** Starts a deadline of `ms` milliseconds linked to `parent`. */
export function startDeadline(parent: AbortSignal, ms: number): Deadline {
  const controller = new AbortController();
  let expired = false;
  const onParentAbort = (): void => controller.abort(parent.reason);
  if (parent.aborted) controller.abort(parent.reason);
  else parent.addEventListener('abort', onParentAbort, { once: true });
  // A referenced timer on purpose: the process must stay alive until the attempt is bounded.
  // Node fires a delay past 2^31-1 ms at once, so a longer one (`timeout: 30d`) is re-armed.
  let timer: NodeJS.Timeout;
  const arm = (left: number): void => {
    timer = setTimeout(() => {
      if (left > MAX_TIMER_MS) return arm(left - MAX_TIMER_MS);
      expired = true;
      controller.abort(new DeadlineExpired(ms));
    }, Math.min(left, MAX_TIMER_MS));
  };
  arm(ms);
  return {
    signal: controller.signal,
    get expired() {
      return expired;
    },
    dispose() {
      clearTimeout(timer);
      parent.removeEventListener('abort', onParentAbort);
    },
  };
}

/** The abort reason of an expired deadline. */
export class DeadlineExpired extends Error {
  constructor(readonly ms: number) {
    super(`timed out after ${formatDuration(ms)}`);
    this.name = 'DeadlineExpired';
  }
}

/** A duration as a user wrote it: `5m`, `1s`, `1500ms`. */
export function formatDuration(ms: number): string {
  if (ms > 0 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
