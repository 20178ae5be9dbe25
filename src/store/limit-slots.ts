/**
 * The arithmetic of per-workflow limits (`WorkflowLimit`) inside one claim, the same for every
 * backend: how many runs of each limited workflow are in progress, which of them gate wakes or
 * starts, and how many slots each has free. The backend counts the runs (under its write lock,
 * or PostgreSQL's advisory lock) and picks the rows; this decides how many it may take.
 */
import type { WorkflowLimit } from './store.js';

type Live = 'queued' | 'running' | 'waiting';
/** A row as either driver returns it. */
type Row = Readonly<Record<string, unknown>>;

/** Counts of the limited workflows' runs in progress, kept up to date as the claim wakes runs. */
export class LimitSlots {
  private readonly counts = new Map<string, Record<Live, number>>();

  /** `rows`: the limited workflows' runs in progress, counted by workflow and state (`workflow`, `status`, `n`). */
  constructor(private readonly limits: ReadonlyMap<string, WorkflowLimit>, rows: Iterable<Row>) {
    for (const row of rows) {
      const workflow = String(row.workflow);
      const c = this.counts.get(workflow) ?? { queued: 0, running: 0, waiting: 0 };
      c[String(row.status) as Live] = Number(row.n);
      this.counts.set(workflow, c);
    }
  }

  /** Slots the workflow has free: its max less its running runs (and waiting ones, when they count). */
  free(workflow: string): number {
    const c = this.counts.get(workflow)!;
    const l = this.limits.get(workflow)!;
    return Math.max(0, l.max - c.running - (l.countWaiting ? c.waiting : 0));
  }

  /** Limited workflows whose waiting runs need a free slot to wake (their waits do not hold one). */
  gatedWake(): string[] {
    return [...this.counts].filter(([w, c]) => c.waiting > 0 && !this.limits.get(w)!.countWaiting).map(([w]) => w);
  }

  /** Limited workflows with queued runs: each starts at most its free slots. */
  gatedStart(): string[] {
    return [...this.counts].filter(([, c]) => c.queued > 0).map(([w]) => w);
  }

  /** Counts runs this claim woke as running, so the starts that follow see their slots taken. */
  woke(rows: Iterable<Row>): void {
    for (const r of rows) {
      const c = this.counts.get(String(r.workflow));
      if (c) {
        c.running += 1;
        c.waiting -= 1;
      }
    }
  }
}
