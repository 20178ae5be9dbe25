/**
 * Streaming quantiles for metrics: a DDSketch (@datadog/sketches-js) with 1% relative
 * accuracy, so a reported p90 of 42 s is within 0.42 s of a true value at that rank, in
 * memory that grows with the logarithm of the value range, never with the number of samples.
 * Sketches merge exactly (bucket counts add), which is what lets worker threads aggregate
 * their files apart and the main thread combine them with the same result.
 */
import sketches from '@datadog/sketches-js';

const { DDSketch } = sketches;
type DD = InstanceType<typeof DDSketch>;

/** The relative accuracy every metrics sketch uses. */
export const RELATIVE_ACCURACY = 0.01;

/**
 * A sketch as it crosses a worker boundary. `fromProto` rebuilds the buckets but loses min,
 * max and sum (the library says so, and its constructor resets them), so they travel beside
 * the bytes: min and max clamp quantiles, which keeps p0/p100 and single-sample sketches exact.
 */
export interface SketchTransfer {
  readonly proto: Uint8Array;
  readonly min: number;
  readonly max: number;
  readonly count: number;
}

/** A mergeable quantile sketch of non-negative values (durations). */
export class Sketch {
  private dd: DD = new DDSketch({ relativeAccuracy: RELATIVE_ACCURACY });
  private lo = Infinity;
  private hi = -Infinity;

  /** Adds one value; negative values (a clock that went back) count as 0. */
  add(value: number): void {
    const v = value > 0 ? value : 0;
    this.dd.accept(v);
    if (v < this.lo) this.lo = v;
    if (v > this.hi) this.hi = v;
  }

  get count(): number {
    return this.dd.count;
  }

  /** The value at quantile q (0..1), null with no samples. */
  quantile(q: number): number | null {
    if (this.dd.count === 0) return null;
    const v = this.dd.getValueAtQuantile(q);
    // A bucket's representative value may lie just outside what was seen: clamp it back.
    return Math.min(this.hi, Math.max(this.lo, v));
  }

  /** Adds another sketch's samples to this one. */
  merge(other: Sketch): void {
    if (other.dd.count === 0) return;
    // The library's merge skips the negative store; add() never fills it, so nothing is lost.
    this.dd.merge(other.dd);
    if (other.lo < this.lo) this.lo = other.lo;
    if (other.hi > this.hi) this.hi = other.hi;
  }

  /** The sketch as bytes plus what fromProto would lose. */
  toTransfer(): SketchTransfer {
    return { proto: this.dd.toProto(), min: this.lo, max: this.hi, count: this.dd.count };
  }

  /** Rebuilds a sketch sent by toTransfer. */
  static fromTransfer(t: SketchTransfer): Sketch {
    const s = new Sketch();
    if (t.count === 0) return s;
    const decoded = DDSketch.fromProto(t.proto) as DD;
    // Merged into a fresh sketch so every sketch keeps the same mapping object type.
    s.dd.merge(decoded);
    s.lo = t.min;
    s.hi = t.max;
    return s;
  }
}
