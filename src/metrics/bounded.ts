/**
 * A list that keeps only its `cap` first items in a fixed order and counts the rest, so a log
 * with a million bad lines (or leaked runs) costs a bounded amount of memory, and the items
 * kept are the same whichever order they arrived in (worker threads finish in any order).
 */
export class BoundedList<T> {
  private items: T[] = [];
  private dropped = 0;

  constructor(private readonly cap: number, private readonly compare: (a: T, b: T) => number) {}

  push(item: T): void {
    this.items.push(item);
    // Trimmed in batches: sorting on every push would cost O(n log n) each.
    if (this.items.length >= this.cap * 2) this.trim();
  }

  /** Adds another list's kept items and its count of dropped ones. */
  merge(items: readonly T[], omitted: number): void {
    for (const item of items) this.push(item);
    this.dropped += omitted;
  }

  /** The kept items, in order. */
  list(): T[] {
    this.trim();
    return this.items;
  }

  /** How many items were counted but not kept. */
  get omitted(): number {
    this.trim();
    return this.dropped;
  }

  get total(): number {
    return this.items.length + this.dropped;
  }

  private trim(): void {
    this.items.sort(this.compare);
    if (this.items.length > this.cap) {
      this.dropped += this.items.length - this.cap;
      this.items.length = this.cap;
    }
  }
}

/** Compares strings by code unit, the same on every machine (no locale). */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
