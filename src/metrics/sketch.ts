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
 * A sketch as it crosses a worker boundary: the positive store's public state (its bins and
 * key range) and the zero count, as plain data for structured cloning. The library's own
 * `toProto`/`fromProto` were not used: `fromProto` loses min, max and sum (its constructor
 * resets them), and both need `protobufjs`, which sketches-js lists only as a dev dependency,
 * so in an installed flux they throw "Cannot find module 'protobufjs/minimal'". Every sketch
 * here has the same mapping (RELATIVE_ACCURACY), so the mapping need not travel.
 */
export interface SketchTransfer {
  readonly bins: number[];
  readonly offset: number;
  readonly minKey: number;
  readonly maxKey: number;
  readonly storeCount: number;
  readonly zeroCount: number;
  readonly min: number;
  readonly max: number;
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
    // Bin by bin through the store's own add, not the library's merge: DenseStore.merge widens
    // its range with `_extendRange(min, max)`, which reads a maximum key of 0 (a value of 1 s)
    // as absent (`max || min`), so merging a sketch whose largest value is about 1 s into one
    // whose values are all below dropped that bin from the range: p99 0.50 s instead of 1.0 s,
    // and totals that depended on the order of the merge (pool against in-process). add()
    // extends the range one key at a time, which is correct. The negative store is never
    // filled (add() counts negatives as 0), so nothing else is lost.
    const from = other.dd.store;
    const into = this.dd.store;
    for (let key = from.minKey; key <= from.maxKey; key++) {
      const n = from.bins[key - from.offset];
      if (n !== undefined && n > 0) into.add(key, n);
    }
    this.dd.zeroCount += other.dd.zeroCount;
    this.dd.count += other.dd.count;
    if (other.lo < this.lo) this.lo = other.lo;
    if (other.hi > this.hi) this.hi = other.hi;
  }

  /** The sketch as plain data, for postMessage. */
  toTransfer(): SketchTransfer {
    const st = this.dd.store;
    return { bins: st.bins, offset: st.offset, minKey: st.minKey, maxKey: st.maxKey, storeCount: st.count, zeroCount: this.dd.zeroCount, min: this.lo, max: this.hi };
  }

  /** Rebuilds a sketch sent by toTransfer. */
  static fromTransfer(t: SketchTransfer): Sketch {
    const s = new Sketch();
    if (t.storeCount + t.zeroCount === 0) return s;
    // DenseStore.copy reads only these public fields.
    s.dd.store.copy({ bins: t.bins, offset: t.offset, minKey: t.minKey, maxKey: t.maxKey, count: t.storeCount } as DD['store']);
    s.dd.zeroCount = t.zeroCount;
    s.dd.count = t.storeCount + t.zeroCount;
    s.lo = t.min;
    s.hi = t.max;
    return s;
  }
}
