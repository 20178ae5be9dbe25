/**
 * Retry delays: exponential backoff with full jitter (a random delay between zero and the
 * exponential bound, so many clients retrying at once spread out), or a fixed delay; a
 * server's Retry-After wins when it asks for longer, up to the step's `max`.
 */
import { parseDuration } from '../workflow/duration.js';
import { asRecord } from '../workflow/model.js';

export interface RetryPolicy {
  readonly attempts: number;
  readonly backoff: 'exponential' | 'fixed';
  readonly initialMs: number;
  readonly maxMs: number;
  /** Extra 4xx statuses worth retrying. */
  readonly on: readonly number[];
}

export const NO_RETRY: RetryPolicy = { attempts: 1, backoff: 'exponential', initialMs: 1000, maxMs: 300_000, on: [] };

/** The policy a step's `retry` block describes (defaults: 1 attempt, 1s initial, 5m max). */
export function retryPolicy(retry: unknown): RetryPolicy {
  const r = asRecord(retry);
  if (!r) return NO_RETRY;
  const ms = (v: unknown, fallback: number) => {
    if (typeof v !== 'string') return fallback;
    const d = parseDuration(v);
    return d.ok ? d.ms : fallback;
  };
  return {
    attempts: typeof r.attempts === 'number' && r.attempts >= 1 ? Math.floor(r.attempts) : 1,
    backoff: r.backoff === 'fixed' ? 'fixed' : 'exponential',
    initialMs: ms(r.initial, 1000),
    maxMs: ms(r.max, 300_000),
    on: Array.isArray(r.on) ? r.on.filter((s): s is number => typeof s === 'number') : [],
  };
}

/** The delay before attempt `attempt + 1`, after `attempt` failed (attempt is 1-based). */
export function retryDelay(policy: RetryPolicy, attempt: number, random: () => number, retryAfterMs?: number): number {
  const bound = policy.backoff === 'fixed' ? policy.initialMs : Math.min(policy.maxMs, policy.initialMs * 2 ** (attempt - 1));
  const jittered = policy.backoff === 'fixed' ? bound : Math.floor(random() * bound);
  if (retryAfterMs !== undefined) return Math.min(policy.maxMs, Math.max(jittered, retryAfterMs));
  return jittered;
}
