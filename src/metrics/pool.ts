/**
 * Reading many files at once: worker threads and the main thread each aggregate the files
 * they claim from a shared counter, and the main thread merges the workers' partials, with
 * the same figures as one reader (test/metrics/pool.test.ts). Workers cost start-up time and
 * memory (each loads the metrics modules and has its own heap: about 20 MB more peak RSS per
 * worker on the 1 GB benchmark), so small inputs are read in-process; see POOL_MIN_BYTES.
 */
import { availableParallelism, cpus } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { Aggregator, type AggregateOptions } from './aggregate.js';
import type { LogFile } from './files.js';
import { readClaimedInto, readFilesInto, type Claim, type FileToRead } from './read.js';
import type { WorkerInput, WorkerReply } from './worker.js';

/**
 * Inputs smaller than this are read in-process. Measured with bin/flux.js on logs from the
 * benchmark's generator (test/bench/metrics-gen.mjs) on a 2-core machine shared with other
 * work (load average 7 to 14): on 5 MB, 2 workers took 1.5-1.9 s against 0.4-0.5 s in-process,
 * the start-up of the threads being all of the difference; one reader parses 130 MB of logs
 * per CPU-second, so a worker's start-up is won back only on inputs of a hundred MB and more.
 */
export const POOL_MIN_BYTES = 128 * 1024 * 1024;
/** More workers than this only add memory: the main thread's merge and the disk are shared. */
const MAX_THREADS = 4;

/** How the files are read: `threads` worker threads besides the main thread, 0 for in-process only. */
export interface ReadPlan {
  readonly threads: number;
  /**
   * Fixed stripes of files per thread instead of claiming the next one (FLUX_METRICS_STRIPED=1,
   * for tests: claimed, a small input may be read by the main thread before any worker starts,
   * and the merge of partials would go untested).
   */
  readonly striped?: boolean;
}

/** The machine as planRead sees it: cores, and how many of them other work keeps busy. */
export interface Machine {
  readonly cores: number;
  readonly load: number;
}

/**
 * How busy the cores are now: the CPU time they spent idle over 100 ms. The load average was
 * tried first and lags by a minute: after a 15-second jq run had ended, it still read 1.6 on
 * an idle 2-core machine, and the pool stayed off.
 */
export async function sampleMachine(ms = 100): Promise<Machine> {
  const total = (c: ReturnType<typeof cpus>) => c.reduce((n, x) => n + x.times.user + x.times.nice + x.times.sys + x.times.idle + x.times.irq, 0);
  const idle = (c: ReturnType<typeof cpus>) => c.reduce((n, x) => n + x.times.idle, 0);
  const a = cpus();
  await delay(ms);
  const b = cpus();
  const cores = Math.min(availableParallelism(), b.length);
  const spent = total(b) - total(a);
  return { cores, load: spent > 0 ? cores * (1 - (idle(b) - idle(a)) / spent) : 0 };
}

/**
 * The plan for these files: in-process for small inputs; for large ones one worker beside the
 * main thread on any machine of two cores or more, and more workers only on idle cores.
 * `cores` is the machine's, given by tests.
 */
export async function planRead(
  files: readonly LogFile[],
  env: Readonly<Record<string, string | undefined>> = {},
  machine: () => Promise<Machine> = sampleMachine,
  cores: number = Math.min(availableParallelism(), cpus().length),
): Promise<ReadPlan> {
  // FLUX_METRICS_THREADS forces a count (0: in-process), for tests and benchmarks.
  const forced = env.FLUX_METRICS_THREADS;
  if (forced !== undefined && /^\d{1,2}$/.test(forced)) {
    return { threads: Math.max(0, Math.min(Number(forced), files.length - 1)), striped: env.FLUX_METRICS_STRIPED === '1' };
  }
  const bytes = files.reduce((n, f) => n + f.size, 0);
  if (bytes < POOL_MIN_BYTES || files.length < 2 || cores < 2) return { threads: 0 };
  // One worker even on a busy machine: files are claimed one at a time (readClaimedInto), so
  // a worker that gets little CPU reads few files and delays nobody. Measured on 1 GB (the
  // benchmark's data, 2 cores, another helper's work besides): with one busy loop running,
  // in-process 3.04-3.29 s, one worker 2.92-3.10 s; with three, in-process 6.7-11.3 s, one
  // worker 7.0-7.3 s; idle, 2.98 s against 2.28 s. Fixed shares (before) made a worker a
  // risk on a busy machine, and this rule required an idle core for it.
  if (cores === 2) return { threads: 1 };
  // More workers only on cores nothing else uses: each costs memory (about 20 MB of RSS) and
  // start-up, and the main thread's merge grows with them.
  const m = await machine();
  const idle = Math.round(m.cores - m.load);
  return { threads: Math.max(1, Math.min(idle - 1, MAX_THREADS, files.length - 1)) };
}

/** Reads `files` into a new aggregator, in-process or with a pool as `plan` says. */
export async function readAll(files: readonly (LogFile & { readonly shown: string })[], options: AggregateOptions, plan: ReadPlan): Promise<Aggregator> {
  const agg = new Aggregator(options);
  if (plan.threads <= 0) {
    await readFilesInto(agg, files);
    return agg;
  }
  // No fixed shares: every thread claims the next file from a shared counter (readClaimedInto).
  // Fixed shares of equal bytes left the main thread or the worker idle at the end whenever
  // the other was slowed down, and the worker starts later than the main thread.
  const list: FileToRead[] = files.map((f) => ({ path: f.path, size: f.size, shown: f.shown }));
  const counter = new Int32Array(new SharedArrayBuffer(4));
  const of = plan.threads + 1;
  const claim = (k: number): Claim => (plan.striped === true ? { stripe: k, of } : { counter });
  const replies = Promise.all(Array.from({ length: plan.threads }, (_, k) => runWorker({ files: list, claim: claim(k + 1), options })));
  // Workers' failures are awaited below; until then a rejection must not count as unhandled.
  replies.catch(() => {});
  await readClaimedInto(agg, list, claim(0));
  for (const r of await replies) agg.mergePartial(r);
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
    // A bounded young generation: a worker's garbage is short-lived line strings, and the
    // default let 3 workers take the process to 234 MB of RSS on 200 MB of logs, against
    // 163 MB with 8 MB (the goal is under 256 MB at 1 GB). 16 MB: on the 1 GB benchmark with
    // one worker, 5 paired runs, 3.81 s of CPU against 4.20 s with 8 MB (fewer scavenges,
    // less promoted), wall 2.14 s against 2.50 s, peak RSS 169 MB against 164 MB.
    const worker = new Worker(workerUrl(), { workerData: input, resourceLimits: { maxYoungGenerationSizeMb: 16 } });
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
