/**
 * Reading many files at once: worker threads each aggregate a share of the files and the main
 * thread merges their partials, with the same figures as one reader (test/metrics/pool.test.ts).
 * A worker costs about 30-40 ms to start (it loads the metrics modules), so small inputs
 * are read in-process: below POOL_MIN_BYTES the pool is slower than no pool (measured, see
 * POOL_MIN_BYTES).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { Aggregator, type AggregateOptions } from './aggregate.js';
import type { LogFile } from './files.js';
import { readFileInto, type FileToRead } from './read.js';
import type { WorkerInput, WorkerReply } from './worker.js';

/**
 * Inputs smaller than this are read in-process. POOL_FIGURES
 */
export const POOL_MIN_BYTES = 64 * 1024 * 1024;

/** How the files are read: `threads` 0 for in-process, else at most that many workers. */
export interface ReadPlan {
  readonly threads: number;
}

/** The plan for these files: workers only when the input is large enough to pay for them. */
export function planRead(files: readonly LogFile[], env: Readonly<Record<string, string | undefined>> = {}): ReadPlan {
  // FLUX_METRICS_THREADS forces a count (0: in-process), for tests and benchmarks.
  const forced = env.FLUX_METRICS_THREADS;
  if (forced !== undefined && /^\d{1,2}$/.test(forced)) return { threads: Math.min(Number(forced), files.length) };
  const bytes = files.reduce((n, f) => n + f.size, 0);
  if (bytes < POOL_MIN_BYTES || files.length < 2) return { threads: 0 };
  return { threads: Math.max(0, Math.min(availableParallelism(), 8, files.length)) };
}

/** Reads `files` into a new aggregator, in-process or with a pool as `plan` says. */
export async function readAll(files: readonly (LogFile & { readonly shown: string })[], options: AggregateOptions, plan: ReadPlan): Promise<Aggregator> {
  const agg = new Aggregator(options);
  const list: FileToRead[] = files.map((f) => ({ path: f.path, shown: f.shown }));
  if (plan.threads <= 0) {
    for (const f of list) await readFileInto(agg, f);
    return agg;
  }
  // Largest first onto the least loaded worker: shares of about equal bytes.
  const shares: { bytes: number; files: FileToRead[] }[] = Array.from({ length: plan.threads }, () => ({ bytes: 0, files: [] }));
  for (const f of [...files].sort((a, b) => b.size - a.size)) {
    const share = shares.reduce((min, s) => (s.bytes < min.bytes ? s : min));
    share.bytes += f.size;
    share.files.push({ path: f.path, shown: f.shown });
  }
  const replies = await Promise.all(shares.filter((s) => s.files.length > 0).map((s) => runWorker({ files: s.files, options })));
  for (const r of replies) agg.mergePartial(r);
  return agg;
}

function workerUrl(): URL {
  const here = import.meta.url;
  // Under the test runner this module is TypeScript; a worker thread is not transformed, so
  // the built one is used.
  return here.endsWith('.ts') ? new URL('../../dist/metrics/worker.js', here) : new URL('./worker.js', here);
}

function runWorker(input: WorkerInput): Promise<ReturnType<Aggregator['toPartial']>> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerUrl(), { workerData: input });
    let settled = false;
    worker.once('message', (reply: WorkerReply) => {
      settled = true;
      if (reply.ok) resolve(reply.partial);
      else reject(Object.assign(new Error(`metrics worker failed: ${reply.error}`), { stack: reply.stack }));
      void worker.terminate();
    });
    worker.once('error', (error) => {
      if (!settled) reject(error);
      settled = true;
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`metrics worker exited with code ${code} before replying`));
    });
  });
}
