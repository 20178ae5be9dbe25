/**
 * The running sums behind one workflow's figures (and, merged, an owner's and the totals):
 * counts, sketches, reclaimed time and value, steps and periods. Bounded: at most MAX_STEPS
 * step ids per workflow and MAX_ERRORS distinct messages per step; what passes a bound is
 * counted and warned about. Mergeable and plain enough to cross to a worker and back.
 */
import type { RunCounts } from './report.js';
import type { BaselineValue } from './parse.js';
import { Sketch, type SketchTransfer } from './sketch.js';

/** Step ids kept per workflow; records of further steps are counted as dropped. */
export const MAX_STEPS = 200;
/** Distinct error messages kept per step; the rest count as "other". */
export const MAX_ERRORS = 20;

/** Mutable run counts. */
export type Counts = { -readonly [K in keyof RunCounts]: number };

/** Fresh zero counts. */
export function zeroCounts(): Counts {
  return { started: 0, succeeded: 0, failed: 0, escalated: 0, cancelled: 0, rejected: 0, running: 0, waiting: 0, stalled: 0 };
}

/** Money and time reclaimed by succeeded runs. */
export interface Reclaimed {
  hours: number;
  value: number;
  /** Succeeded runs whose baseline had an hourly cost. */
  valued: number;
  /** Currencies of the valued runs ("" for none given). */
  currencies: string[];
}

/** One trend period. */
export interface PeriodAgg {
  readonly counts: Counts;
  leaked: number;
  readonly reclaimed: Reclaimed;
  readonly response: Sketch;
  readonly cycle: Sketch;
  /** Escalation to acknowledgement, of escalations in this period. */
  readonly ack: Sketch;
}

/** One step's running figures. */
export interface StepAgg {
  firstTs: number;
  finished: number;
  succeeded: number;
  failed: number;
  skipped: number;
  retries: number;
  readonly duration: Sketch;
  readonly errors: Map<string, number>;
  otherErrors: number;
}

/** One workflow's running figures: its totals are a period's figures over all its runs. */
export interface WorkflowAgg extends PeriodAgg {
  readonly name: string;
  owner: string | null;
  ownerTs: number;
  baseline: BaselineValue | null;
  baselineTs: number;
  readonly baselines: Set<string>;
  firstFile: string;
  readonly steps: Map<string, StepAgg>;
  stepsDropped: number;
  readonly periods: Map<string, PeriodAgg>;
}

/** A fresh workflow aggregate. */
export function newWorkflowAgg(name: string, file: string): WorkflowAgg {
  return {
    name, owner: null, ownerTs: -Infinity, baseline: null, baselineTs: -Infinity, baselines: new Set(), firstFile: file,
    ...newPeriod(), steps: new Map(), stepsDropped: 0, periods: new Map(),
  };
}

/** Fresh reclaimed sums. */
export function newReclaimed(): Reclaimed {
  return { hours: 0, value: 0, valued: 0, currencies: [] };
}

/** A fresh period. */
export function newPeriod(): PeriodAgg {
  return { counts: zeroCounts(), leaked: 0, reclaimed: newReclaimed(), response: new Sketch(), cycle: new Sketch(), ack: new Sketch() };
}

/** A fresh step. */
export function newStep(ts: number): StepAgg {
  return { firstTs: ts, finished: 0, succeeded: 0, failed: 0, skipped: 0, retries: 0, duration: new Sketch(), errors: new Map(), otherErrors: 0 };
}

/** Adds one succeeded run's baseline to reclaimed sums. */
export function reclaim(r: Reclaimed, b: BaselineValue | null): void {
  if (b === null || b.minutes_per_run === null) return;
  const hours = b.minutes_per_run / 60;
  r.hours += hours;
  if (b.hourly_cost !== null) {
    r.value += hours * b.hourly_cost;
    r.valued++;
    addCurrency(r, b.currency ?? '');
  }
}

function addCurrency(r: Reclaimed, c: string): void {
  if (!r.currencies.includes(c)) r.currencies.push(c);
}

/** Adds `b` into `a`. */
export function mergeReclaimed(a: Reclaimed, b: Reclaimed): void {
  a.hours += b.hours;
  a.value += b.value;
  a.valued += b.valued;
  for (const c of b.currencies) addCurrency(a, c);
}

/** Adds `b` into `a`. */
export function mergeCounts(a: Counts, b: Counts): void {
  for (const k of Object.keys(a) as (keyof Counts)[]) a[k] += b[k];
}

/** Adds `b` into `a`. */
export function mergePeriod(a: PeriodAgg, b: PeriodAgg): void {
  mergeCounts(a.counts, b.counts);
  a.leaked += b.leaked;
  mergeReclaimed(a.reclaimed, b.reclaimed);
  a.response.merge(b.response);
  a.cycle.merge(b.cycle);
  a.ack.merge(b.ack);
}

/** Adds `b` into `a`; false when an error message had to be counted as "other". */
export function mergeStep(a: StepAgg, b: StepAgg): boolean {
  a.firstTs = Math.min(a.firstTs, b.firstTs);
  a.finished += b.finished;
  a.succeeded += b.succeeded;
  a.failed += b.failed;
  a.skipped += b.skipped;
  a.retries += b.retries;
  a.duration.merge(b.duration);
  a.otherErrors += b.otherErrors;
  let fits = true;
  for (const [m, n] of b.errors) fits = countError(a, m, n) && fits;
  return fits;
}

/** Counts an error message for a step; false when the step's list was full. */
export function countError(a: StepAgg, message: string, n = 1): boolean {
  const seen = a.errors.get(message);
  if (seen !== undefined) a.errors.set(message, seen + n);
  else if (a.errors.size < MAX_ERRORS) a.errors.set(message, n);
  else {
    a.otherErrors += n;
    return false;
  }
  return true;
}

/**
 * Adds workflow `b` into `a`. `steps` false (totals, owners) skips the steps, which are only
 * reported per workflow. Returns the step ids that did not fit.
 */
export function mergeWorkflow(a: WorkflowAgg, b: WorkflowAgg, steps = true): string[] {
  if (b.owner !== null && (b.ownerTs > a.ownerTs || (b.ownerTs === a.ownerTs && (a.owner === null || b.owner > a.owner)))) {
    a.owner = b.owner;
    a.ownerTs = b.ownerTs;
  }
  if (b.baseline !== null && (b.baselineTs > a.baselineTs || (b.baselineTs === a.baselineTs && (a.baseline === null || b.baseline.key > a.baseline.key)))) {
    a.baseline = b.baseline;
    a.baselineTs = b.baselineTs;
  }
  for (const k of b.baselines) a.baselines.add(k);
  if (b.firstFile < a.firstFile) a.firstFile = b.firstFile;
  mergePeriod(a, b);
  for (const [key, p] of b.periods) {
    const mine = a.periods.get(key);
    if (mine) mergePeriod(mine, p);
    else a.periods.set(key, clonePeriod(p));
  }
  const dropped: string[] = [];
  if (!steps) return dropped;
  a.stepsDropped += b.stepsDropped;
  for (const [id, s] of b.steps) {
    const mine = a.steps.get(id);
    if (mine) mergeStep(mine, s);
    else if (a.steps.size < MAX_STEPS) {
      const fresh = newStep(s.firstTs);
      mergeStep(fresh, s);
      a.steps.set(id, fresh);
    } else {
      a.stepsDropped += s.finished + s.retries;
      dropped.push(id);
    }
  }
  return dropped;
}

function clonePeriod(p: PeriodAgg): PeriodAgg {
  const c = newPeriod();
  mergePeriod(c, p);
  return c;
}

/** A period's figures as plain data for postMessage (sketches flattened). */
interface PeriodWire {
  readonly counts: Counts;
  readonly leaked: number;
  readonly reclaimed: Reclaimed;
  readonly response: SketchTransfer;
  readonly cycle: SketchTransfer;
  readonly ack: SketchTransfer;
}

/** A workflow aggregate as plain data for postMessage (Maps, Sets and sketches flattened). */
export interface WorkflowWire {
  readonly w: Omit<WorkflowAgg, keyof PeriodAgg | 'baselines' | 'steps' | 'periods'>;
  /** The workflow's totals. */
  readonly figures: PeriodWire;
  readonly baselines: string[];
  readonly steps: [string, Omit<StepAgg, 'duration' | 'errors'> & { duration: SketchTransfer; errors: [string, number][] }][];
  readonly periods: [string, PeriodWire][];
}

function periodToWire(p: PeriodAgg): PeriodWire {
  return {
    counts: p.counts, leaked: p.leaked, reclaimed: p.reclaimed,
    response: p.response.toTransfer(), cycle: p.cycle.toTransfer(), ack: p.ack.toTransfer(),
  };
}

function periodFromWire(p: PeriodWire): PeriodAgg {
  return { ...p, response: Sketch.fromTransfer(p.response), cycle: Sketch.fromTransfer(p.cycle), ack: Sketch.fromTransfer(p.ack) };
}

/** Flattens a workflow aggregate for a worker's reply. */
export function toWire(a: WorkflowAgg): WorkflowWire {
  return {
    w: { name: a.name, owner: a.owner, ownerTs: a.ownerTs, baseline: a.baseline, baselineTs: a.baselineTs, firstFile: a.firstFile, stepsDropped: a.stepsDropped },
    figures: periodToWire(a),
    baselines: [...a.baselines],
    steps: [...a.steps].map(([id, s]) => [id, { ...s, duration: s.duration.toTransfer(), errors: [...s.errors] }]),
    periods: [...a.periods].map(([k, p]) => [k, periodToWire(p)]),
  };
}

/** Rebuilds a workflow aggregate from a worker's reply. */
export function fromWire(x: WorkflowWire): WorkflowAgg {
  return {
    ...x.w,
    ...periodFromWire(x.figures),
    baselines: new Set(x.baselines),
    steps: new Map(x.steps.map(([id, s]) => [id, { ...s, duration: Sketch.fromTransfer(s.duration), errors: new Map(s.errors) }])),
    periods: new Map(x.periods.map(([k, p]) => [k, periodFromWire(p)])),
  };
}
