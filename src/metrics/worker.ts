/**
 * A metrics worker thread: reads the files it is given into its own aggregator and replies
 * with the aggregator's partial (sketches as bytes, runs still open as plain states), which
 * the main thread merges. A failure is replied as a message, never thrown across.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Aggregator, type AggregateOptions } from './aggregate.js';
import { readFilesInto, type FileToRead } from './read.js';

/** What a worker is started with. */
export interface WorkerInput {
  readonly files: readonly FileToRead[];
  readonly options: AggregateOptions;
}

/** What a worker replies. */
export type WorkerReply = { readonly ok: true; readonly partial: ReturnType<Aggregator['toPartial']> } | { readonly ok: false; readonly error: string; readonly stack?: string };

async function work(input: WorkerInput): Promise<WorkerReply> {
  const agg = new Aggregator(input.options);
  await readFilesInto(agg, input.files);
  return { ok: true, partial: agg.toPartial() };
}

if (parentPort) {
  const port = parentPort;
  work(workerData as WorkerInput).then(
    (reply) => port.postMessage(reply),
    (error: unknown) => port.postMessage({ ok: false, error: error instanceof Error ? error.message : String(error), ...(error instanceof Error && error.stack ? { stack: error.stack } : {}) }),
  );
}
