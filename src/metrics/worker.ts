/**
 * A metrics worker thread: reads the files it claims (read.ts, readClaimedInto) into its own
 * aggregator and replies
 * with the aggregator's partial (sketches as bytes, runs still open as plain states), which
 * the main thread merges. A failure is replied as a message, never thrown across.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Aggregator, type AggregateOptions } from './aggregate.js';
import { readClaimedInto, type Claim, type FileToRead } from './read.js';

/** What a worker is started with. */
export interface WorkerInput {
  /** Every file of the read, in path order; the worker reads those it claims. */
  readonly files: readonly FileToRead[];
  /** How it picks its files: the pool's shared counter, or its stripe. */
  readonly claim: Claim;
  readonly options: AggregateOptions;
}

/** What a worker replies. */
export type WorkerReply = { readonly ok: true; readonly partial: ReturnType<Aggregator['toPartial']> } | { readonly ok: false; readonly error: string; readonly stack?: string };

async function work(input: WorkerInput): Promise<WorkerReply> {
  const agg = new Aggregator(input.options);
  await readClaimedInto(agg, input.files, input.claim);
  return { ok: true, partial: agg.toPartial() };
}

if (parentPort) {
  const port = parentPort;
  work(workerData as WorkerInput).then(
    (reply) => port.postMessage(reply),
    (error: unknown) => port.postMessage({ ok: false, error: error instanceof Error ? error.message : String(error), ...(error instanceof Error && error.stack ? { stack: error.stack } : {}) }),
  );
}
