/**
 * `flux metrics [paths…]`: read run logs and report what each workflow is worth and where it
 * leaks (src/metrics/). Exit 0 when the report is written; 1 with --fail-on-leak when a run
 * leaked; 2 on usage or input errors (a bad flag value, a path that does not exist, a --store
 * that cannot be opened or read); 3 on an internal fault (a stack only with --debug, printed
 * by main).
 */
import { isAbsolute, join } from 'node:path';
import { readTestClock } from '../engine/test-clock.js';
import { buildReport } from '../metrics/build-report.js';
import { findLogFiles } from '../metrics/files.js';
import { planRead, readAll } from '../metrics/pool.js';
import type { MetricsReport, Period } from '../metrics/report.js';
import { escapeControl } from '../text/escape.js';
import { parseDuration } from '../workflow/duration.js';
import { displayPath, ExitCode, UsageError, useColor, type Io } from './io.js';
import { openMetricsStore, readMetricsStore } from './metrics-store.js';
import { writeAtomically } from './write-out.js';

/** The formats `--format` takes. */
export const METRICS_FORMATS = ['table', 'json', 'csv', 'prom', 'html'] as const;
/** One of the formats. */
export type MetricsFormat = (typeof METRICS_FORMATS)[number];

/** The options as commander hands them over (strings, checked here). */
export interface MetricsOptions {
  readonly logDir?: string | undefined;
  readonly since?: string | undefined;
  readonly until?: string | undefined;
  readonly workflow?: readonly string[] | undefined;
  readonly by?: string | undefined;
  readonly format?: string | undefined;
  readonly out?: string | undefined;
  readonly staleAfter?: string | undefined;
  readonly failOnLeak?: boolean | undefined;
  readonly color?: boolean | undefined;
  /** Where the workflow files are, for the maps in the HTML report (default: workflows/ when present). */
  readonly workflows?: string | undefined;
  /** The daemons' store, for the live state and open runs (default: $FLUX_STORE_URL; none without either). */
  readonly store?: string | undefined;
}

const DAY_MS = 86_400_000;

/** Runs the metrics command; returns the exit code. */
export async function metricsCommand(paths: readonly string[], options: MetricsOptions, io: Io): Promise<number> {
  const now = clockNow(io);
  const since = options.since === undefined ? null : timeOption('--since', options.since, now);
  const until = options.until === undefined ? now : timeOption('--until', options.until, now);
  if (since !== null && since >= until) {
    throw new UsageError(`--since (${new Date(since).toISOString()}) is not before --until (${new Date(until).toISOString()})`);
  }
  const by = (options.by ?? 'day') as Period;
  if (!['day', 'week', 'month'].includes(by)) throw new UsageError(`--by takes day, week or month, not \`${escapeControl(String(options.by))}\``);
  let staleMs = DAY_MS;
  if (options.staleAfter !== undefined) {
    const d = parseDuration(options.staleAfter);
    if (!d.ok) throw new UsageError(`--stale-after: ${escapeControl(d.message)}`);
    staleMs = d.ms;
  }
  const format = chooseFormat(options.format, options.out, io);
  const inputs = [...paths, ...(options.logDir !== undefined ? [options.logDir] : [])].map((p) => (isAbsolute(p) ? p : join(io.cwd, p)));
  const defaulted = inputs.length === 0;
  if (defaulted) inputs.push(io.env.FLUX_HOME ? join(resolve(io.env.FLUX_HOME, io), 'logs') : join(io.cwd, '.flux', 'logs'));
  const found = await findLogFiles(inputs);
  if (found.missing.length > 0) {
    const names = found.missing.map((m) => `\`${escapeControl(displayPath(m, io.cwd))}\``).join(', ');
    throw new UsageError(defaulted
      ? `no run logs at ${names}: run a workflow first, or say where the logs are with --log-dir or paths`
      : `${names}: no such file or directory`);
  }
  if (found.unreadable.length > 0) {
    throw new UsageError(found.unreadable.map((u) => `cannot read \`${escapeControl(displayPath(u.path, io.cwd))}\`: ${u.reason}`).join('\n'));
  }
  const files = found.files.map((f) => ({ ...f, shown: displayPath(f.path, io.cwd) }));
  const store = await openMetricsStore(options.store, io, now);
  let report: MetricsReport;
  try {
    const agg = await readAll(files, {
      since, until, cutAtUntil: options.until !== undefined, staleMs, by, workflows: options.workflow && options.workflow.length > 0 ? options.workflow : null,
    }, await planRead(files, io.env));
    const read = store === undefined ? undefined : await readMetricsStore(store, { now, until }, agg.unfinishedRuns());
    for (const w of read?.warnings ?? []) agg.warn(w.file, w.line, w.message);
    agg.finish(read?.verdicts);
    report = buildReport(agg, { generatedAt: now, since, until, live: read?.live });
  } finally {
    await store?.store.close().catch(() => undefined);
  }
  const text = await render(report, format, io, options);

  if (options.out !== undefined) writeAtomically(isAbsolute(options.out) ? options.out : join(io.cwd, options.out), text, io);
  else io.stdout.write(text);

  if (report.live !== undefined) {
    const n = report.live.log_incomplete_runs;
    if (n > 0) io.stderr.write(`flux: log incomplete: ${n} run${n === 1 ? '' : 's'} with no end in the logs ${n === 1 ? 'is' : 'are'} finished in the store, counted with the store's outcome; give every daemon's log directory\n`);
    if (format === 'csv') io.stderr.write('flux: the store\'s live state is not in the csv report (its rows are periods of the window, not the present): see it with --format json, prom, table or html\n');
  }
  const warnings = report.warnings.length + report.warnings_omitted;
  if (warnings > 0) {
    const where = format === 'json' ? 'the "warnings" list of the report' : '`--format json` (the "warnings" list)';
    io.stderr.write(`flux: ${warnings} warning${warnings === 1 ? '' : 's'} while reading the logs (unreadable lines, missing owners); see them in ${where}\n`);
  }
  if (report.totals.leaked > 0) {
    io.stderr.write(`flux: ${report.totals.leaked} leaked run${report.totals.leaked === 1 ? '' : 's'}: failed without a delivered escalation, or stopped without an end\n`);
    if (options.failOnLeak) return ExitCode.problems;
  }
  return ExitCode.ok;
}

/** The format: --format, else from --out's extension, else table on a terminal and json otherwise. */
export function chooseFormat(format: string | undefined, out: string | undefined, io: Io): MetricsFormat {
  if (format !== undefined) {
    if (!(METRICS_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format takes ${METRICS_FORMATS.join(', ')}, not \`${escapeControl(format)}\``);
    return format as MetricsFormat;
  }
  if (out !== undefined) {
    const ext = /\.([a-z]+)$/i.exec(out)?.[1]?.toLowerCase();
    return ext === 'json' || ext === 'csv' || ext === 'prom' || ext === 'html' ? ext : 'table';
  }
  return io.stdout.isTTY === true ? 'table' : 'json';
}

async function render(report: MetricsReport, format: MetricsFormat, io: Io, options: MetricsOptions): Promise<string> {
  switch (format) {
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    case 'csv':
      return (await import('../metrics/format/csv.js')).formatCsv(report);
    case 'prom':
      return (await import('../metrics/format/prom.js')).formatProm(report);
    case 'html': {
      const { workflowMaps } = await import('./metrics-maps.js');
      const maps = await workflowMaps(options.workflows, report.workflows.map((w) => w.name), io);
      return (await import('../metrics/format/html.js')).formatHtml(report, { maps });
    }
    default: {
      const width = (io.stdout as { columns?: number }).columns ?? 80;
      return (await import('../metrics/format/table.js')).formatTable(report, { color: useColor(io, 'stdout', options.color), width });
    }
  }
}

/** `--since`/`--until`: a duration back from now (7d, 12h) or a date or time, read as UTC without a zone. */
export function timeOption(flag: string, value: string, now: number): number {
  const d = parseDuration(value);
  if (d.ok) return now - d.ms;
  const text = value.trim().replace(' ', 'T');
  if (/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) {
    const at = Date.parse(/T/.test(text) && !/(Z|[+-]\d{2}:?\d{2})$/.test(text) ? `${text}Z` : text);
    if (Number.isFinite(at)) return at;
  }
  throw new UsageError(`${flag} takes a duration back from now (7d, 12h, 30m) or a date (2026-11-01, 2026-11-01T09:00Z), not \`${escapeControl(value)}\``);
}

function clockNow(io: Io): number {
  const file = io.env.FLUX_TEST_CLOCK;
  if (file === undefined || file === '') return Date.now();
  try {
    return readTestClock(file);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

function resolve(dir: string, io: Io): string {
  return isAbsolute(dir) ? dir : join(io.cwd, dir);
}
