/**
 * Reading many files at once: worker threads each aggregate a share of the files and the main
 * thread merges their partials, with the same figures as one reader (test/metrics/pool.test.ts).
 * Workers cost start-up time and memory (each loads the metrics modules and has its own heap,
 * about 50 MB of RSS), so small inputs are read in-process; see POOL_MIN_BYTES.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { Aggregator, type AggregateOptions } from './aggregate.js';
import type { LogFile } from './files.js';
import { readFilesInto, type FileToRead } from './read.js';
import type { WorkerInput, WorkerReply } from './worker.js';

/**
 * Inputs smaller than this are read in-process. Measured with bin/flux.js on logs from the
 * benchmark's generator (test/bench/metrics-gen.mjs), on a 2-core machine shared with other
 * work (load average 9): on 5 MB, 2 workers took 1.5-1.9 s against 0.4-0.5 s in-process (the
 * start-up of the threads is all of the difference); on 200 MB, 2.8-3.3 s against 2.3-3.4 s:
 * about even. One reader reads 70-130 MB/s here (1.5 s of CPU for those 200 MB), so below
 * ~128 MB the start-up is not won back; above it, on a machine with idle cores, the shares
 * read in parallel.
 */
export const POOL_MIN_BYTES = 128 * 1024 * 1024;
/** More workers than this only add memory: the main thread's merge and the disk are shared. */
const MAX_THREADS = 4;

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
  return { threads: Math.max(0, Math.min(availableParallelism(), MAX_THREADS, files.length)) };
}

/** Reads `files` into a new aggregator, in-process or with a pool as `plan` says. */
export async function readAll(files: readonly (LogFile & { readonly shown: string })[], options: AggregateOptions, plan: ReadPlan): Promise<Aggregator> {
  const agg = new Aggregator(options);
  if (plan.threads <= 0) {
    await readFilesInto(agg, files);
    return agg;
  }
  // Largest first onto the least loaded worker: shares of about equal bytes.
  const shares: { bytes: number; files: FileToRead[] }[] = Array.from({ length: plan.threads }, () => ({ bytes: 0, files: [] }));
  for (const f of [...files].sort((a, b) => b.size - a.size)) {
    const share = shares.reduce((min, s) => (s.bytes < min.bytes ? s : min));
    share.bytes += f.size;
    share.files.push({ path: f.path, size: f.size, shown: f.shown });
  }
  // Each share in path order, so a run's rotated parts are read in the order one reader reads them.
  const replies = await Promise.all(shares.filter((s) => s.files.length > 0).map((s) => runWorker({ files: s.files.sort((a, b) => (a.path < b.path ? -1 : 1)), options })));
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
    // A small young generation: a worker's garbage is short-lived line strings, and the
    // default let 3 workers take the process to 234 MB of RSS on 200 MB of logs, against
    // 163 MB with 8 MB, at the same speed (the goal is under 256 MB at 1 GB).
    const worker = new Worker(workerUrl(), { workerData: input, resourceLimits: { maxYoungGenerationSizeMb: 8 } });
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
