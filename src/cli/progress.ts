/**
 * Live progress for `flux run`: one line per step as it finishes (a mark, the step, its
 * duration), retries and emitted events, a transient "running" line and foreach progress on a
 * terminal, and plain lines (one per step event) when output is piped or NO_COLOR is set.
 * Every line passes through the masker, and every string that came from outside (error
 * texts, rendered requests) has its control characters escaped before it is shown.
 */
import { escapeControl as shown } from '../text/escape.js';
import type { LoadedWorkflow, RunResult } from '../engine/types.js';
import type { Masker } from '../secrets/masker.js';
import type { RunRecord } from '../store/run-log.js';
import type { Io } from './io.js';

const MARKS = { succeeded: '✓', failed: '✗', skipped: '↷' } as const;
const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export class ProgressPrinter {
  private transient = false;
  private frame = 0;
  private readonly running = new Map<string, string>();
  private readonly lastShare = new Map<string, number>();
  private ticker: NodeJS.Timeout | undefined;
  private lastProgress: string | undefined;

  private readonly skippedAtStart = new Map<string, number>();

  /**
   * `skipped` tells how much waiting a time-skipping clock (flux demo) has skipped so far: a
   * step that waited is then shown with its real duration and the wait it skipped, never as if
   * it had taken 48 hours.
   */
  constructor(private readonly io: Io, private readonly masker: Masker, private readonly live: boolean, private readonly skipped?: () => number) {}

  header(workflow: LoadedWorkflow, runId: string, dryRun: boolean): void {
    this.line(`${this.bold(`flux run ${workflow.name}`)} ${this.dim(`run ${runId}${dryRun ? ', dry run: nothing is sent' : ''}`)}`);
    if (this.live) {
      // Keep the spinner turning while a slow call or a wait is in progress.
      this.ticker = setInterval(() => {
        if (this.lastProgress !== undefined) this.transientLine(this.lastProgress);
        else if (this.running.size > 0) this.showRunning();
      }, 100);
      this.ticker.unref();
    }
  }

  record(r: RunRecord): void {
    const nested = 'index' in r && r.index !== undefined && r.index.length > 0;
    switch (r.type) {
      case 'step.started':
        if (nested) return;
        if (this.skipped) this.skippedAtStart.set(r.path, this.skipped());
        this.running.set(r.path, r.step);
        if (this.live) this.showRunning();
        else this.line(`${indent(r.path)}· ${r.step} started`);
        return;
      case 'step.retry':
        this.line(`${indent(r.path)}${this.yellow('↻')} ${r.step}${nested ? ` [${r.index?.join('.')}]` : ''} attempt ${r.attempt} failed (${shown(r.error.message)}); retrying in ${formatMs(r.delay_ms)}`);
        return;
      case 'step.finished': {
        this.running.delete(r.path);
        if (!nested) this.lastProgress = undefined;
        if (nested && r.status !== 'failed') return;
        const mark = r.status === 'succeeded' ? this.green(MARKS.succeeded) : r.status === 'failed' ? this.red(MARKS.failed) : this.dim(MARKS.skipped);
        const what = r.status === 'skipped' ? this.dim('skipped') : this.dim(this.duration(r.duration_ms, this.skippedSince(r.path)));
        // A failed step's message already says its status when the status is the failure
        // ("HTTP 401: ..."); the column is for the steps that did not fail.
        const http = r.http_status !== undefined && !r.error ? ` HTTP ${r.http_status}` : '';
        const attempts = r.attempt > 1 ? ` after ${r.attempt} attempts` : '';
        const continued = r.continued ? this.yellow(' (continued)') : '';
        const error = r.error ? `: ${shown(r.error.message)}` : '';
        this.line(`${indent(r.path)}${mark} ${r.step}${nested ? ` [${r.index?.join('.')}]` : ''} ${what}${http}${attempts}${error}${continued}`);
        const unresolved = (r.output as { unresolved?: unknown } | null | undefined)?.unresolved;
        if (typeof unresolved === 'string') this.line(`${indent(r.path)}    ${this.dim(`would run; its value depends on a response: ${shown(unresolved)}`)}`);
        const request = dryRunRequest(r.output);
        if (request) {
          this.line(`${indent(r.path)}    ${shown(request.method)} ${shown(request.url)}`);
          for (const [k, v] of Object.entries(request.headers)) this.line(`${indent(r.path)}    ${this.dim(shown(`${k}: ${v}`))}`);
          if (request.body !== null) this.line(`${indent(r.path)}    ${this.dim(shown(String(request.body)))}`);
        }
        if (this.live && this.running.size > 0) this.showRunning();
        return;
      }
      case 'step.warning':
        this.line(`${indent(r.path)}${this.yellow('!')} ${r.step}${nested ? ` [${r.index?.join('.')}]` : ''} warning: ${shown(r.message)}`);
        return;
      case 'event.emitted':
        this.line(`${indent(r.path)}  ${this.dim('↑ emitted')} ${r.event}`);
        return;
      default:
        return;
    }
  }

  progress(p: { step: string; path: string; done: number; total: number }): void {
    if (this.live) {
      this.lastProgress = p.done < p.total ? `${indent(p.path)}{spinner} ${p.step} ${p.done}/${p.total}` : undefined;
      this.transientLine(`${indent(p.path)}{spinner} ${p.step} ${p.done}/${p.total}`);
      return;
    }
    const share = Math.floor((p.done / p.total) * 4);
    if (share > (this.lastShare.get(p.path) ?? 0) || p.done === p.total) {
      this.lastShare.set(p.path, share);
      this.line(`${indent(p.path)}· ${p.step} ${p.done}/${p.total}`);
    }
  }

  footer(result: RunResult, logPath: string | undefined): void {
    if (this.ticker) clearInterval(this.ticker);
    this.clear();
    const took = this.duration(result.duration_ms, this.skipped?.() ?? 0, 'of waits');
    const status = result.status === 'succeeded' ? this.green('succeeded') : result.status === 'escalated' ? this.yellow('escalated') : this.red(result.status);
    this.line(`run ${result.run_id} ${status} in ${took}`);
    if (result.error) this.line(`  ${result.error.step ? `step ${result.error.step}: ` : ''}${shown(result.error.message)}`);
    if (result.escalation && result.dry_run) {
      this.line(`  the owner would be notified through ${result.escalation.via} (dry run: nothing was sent)`);
    } else if (result.escalation) {
      if (result.escalation.delivered) this.line(`  the owner was notified through ${result.escalation.via}`);
      else this.line(this.red(`  the owner could NOT be notified (${result.escalation.via}): ${shown(result.escalation.delivery_error ?? 'unknown error')}`));
    }
    if (logPath) this.line(this.dim(`log: ${logPath}`));
  }

  private skippedSince(path: string): number {
    const before = this.skippedAtStart.get(path);
    return this.skipped && before !== undefined ? this.skipped() - before : 0;
  }

  /** A duration as it really took; time a skipping clock jumped over is named, not added. */
  private duration(ms: number, skippedMs: number, what = 'wait'): string {
    if (skippedMs <= 0) return formatMs(ms);
    return `${formatMs(Math.max(0, ms - skippedMs))} (skipped ${what === 'wait' ? 'a ' : ''}${formatMs(skippedMs)} ${what})`;
  }

  private showRunning(): void {
    const names = [...this.running.values()];
    if (names.length === 0) {
      this.clear();
      return;
    }
    this.transientLine(`  {spinner} ${names.slice(-3).join(', ')}`);
  }

  /** Rewrites the last terminal line in place; `{spinner}` becomes the next spinner frame. */
  private transientLine(text: string): void {
    this.clear();
    this.frame = (this.frame + 1) % FRAMES.length;
    this.io.stdout.write(this.masker.mask(text.replace('{spinner}', FRAMES[this.frame]!)));
    this.transient = true;
  }

  private clear(): void {
    if (this.transient) {
      this.io.stdout.write('\r\u001b[2K');
      this.transient = false;
    }
  }

  private line(text: string): void {
    this.clear();
    this.io.stdout.write(`${this.masker.mask(text)}\n`);
  }

  private paint(code: number, s: string): string {
    return this.live ? `\u001b[${code}m${s}\u001b[0m` : s;
  }
  private bold(s: string) { return this.paint(1, s); }
  private dim(s: string) { return this.paint(2, s); }
  private red(s: string) { return this.paint(31, s); }
  private green(s: string) { return this.paint(32, s); }
  private yellow(s: string) { return this.paint(33, s); }
}

function indent(path: string): string {
  return '  '.repeat(path.split('/').length);
}

/** Durations for people: 120ms, 1.4s, 2m05s, 48h. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m${String(Math.floor((ms % 60_000) / 1000)).padStart(2, '0')}s`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  return m === 0 ? `${h}h` : `${h}h${String(m).padStart(2, '0')}m`;
}

function dryRunRequest(output: unknown): { method: string; url: string; headers: Record<string, string>; body: unknown } | undefined {
  const o = output as { dry_run?: boolean; request?: { method: string; url: string; headers: Record<string, string>; body: unknown } } | null;
  return o && o.dry_run === true && o.request ? o.request : undefined;
}
