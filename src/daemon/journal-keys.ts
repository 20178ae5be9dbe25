/**
 * The keys the daemon gives a run's journal entries besides a step's own (`stepKey`: `id` or
 * `id:2:0` inside foreach). The runner writes them, replay reads them, and `flux runs` shows
 * them; this is the one place that spells them.
 *
 * - `<step key>#waiting`: a durable wait that began; the step's completion, written later
 *   under its own key, must not collide with it.
 * - `<step key>#event:<n>`: the n-th event delivered to a waiting `wait_for`. Each park of the
 *   run names the next key (its WaitingFor.step), so every delivery has a key of its own and
 *   none overwrites another.
 */

const WAITING_SUFFIX = '#waiting';
const DELIVERY_INFIX = '#event:';

/** The key of the waiting entry of the step at `stepKey`. */
export function waitingKey(stepKey: string): string {
  return `${stepKey}${WAITING_SUFFIX}`;
}

/** The step key a waiting entry belongs to, or undefined when `key` is not a waiting entry's. */
export function waitingStepKey(key: string): string | undefined {
  return key.endsWith(WAITING_SUFFIX) ? key.slice(0, -WAITING_SUFFIX.length) : undefined;
}

/** The key of the n-th event delivered to the wait at `stepKey`. */
export function deliveryKey(stepKey: string, n: number): string {
  return `${stepKey}${DELIVERY_INFIX}${n}`;
}

/** The step key a delivery belongs to (`reply#event:2` → `reply`), or undefined when `key` is not a delivery's. */
export function deliveryStepKey(key: string): string | undefined {
  const at = key.indexOf(DELIVERY_INFIX);
  return at < 0 ? undefined : key.slice(0, at);
}

/** How many deliveries to the wait at `stepKey` the journal holds, among these keys. */
export function deliveriesTo(stepKey: string, keys: Iterable<string>): number {
  let n = 0;
  for (const key of keys) if (deliveryStepKey(key) === stepKey) n++;
  return n;
}

/** A step's own entry (a completion), not a waiting entry or a delivered event. */
export function isCompletionKey(key: string): boolean {
  return waitingStepKey(key) === undefined && deliveryStepKey(key) === undefined;
}

/** The step a WaitingFor's delivery key belongs to, for people to read (`reply#event:2` → `reply`). */
export function waitingStep(key: string): string {
  return deliveryStepKey(key) ?? key;
}
