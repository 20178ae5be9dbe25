/**
 * `flux runs show ID`: one run, for an operator deciding what to do about it: where it stands
 * and since when, the workflow version it runs (and whether the file on disk still is that
 * version), its steps in order with attempts, durations, outputs and errors, what it waits for
 * and until when, and how it is linked to retries. Reads the store read-only; outputs follow
 * the rule in runs-secrets.ts; every outside value is escaped before it is printed.
 */
import { waitingStep } from '../daemon/journal-keys.js';
import { approvalText, openApprovals } from './runs-approvals.js';
import type { RunRow } from '../store/store.js';
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { readRunLog, runLogPath, turnsOf, type RunRecord, type RunTurn } from '../store/run-log.js';
import { escapeControl } from '../text/escape.js';
import { displayPath, ExitCode, UsageError, type Io } from './io.js';
import { ackState, duration, escalationJson, isoOrNull, preview, progressOf, runJson, safeJson, shortHash, shortTime, table } from './runs-format.js';
import { envFileValues, revealFor } from './runs-secrets.js';
import { clockOf, openStore, runIdArgument, stateDirOf } from './runs-state.js';
import { stepsOf, type StepView } from './runs-steps.js';
import { compareWithDisk, type OnDisk } from './runs-workflow-file.js';

/** The options of `flux runs show`. */
export interface RunsShowOptions {
  readonly json?: boolean | undefined;
  readonly stateDir?: string | undefined;
  /** Where the workflow files are, to compare the run's version with (default workflows/). */
  readonly workflows?: string | undefined;
  /** Secret values, to show whole outputs from the journal (masked). */
  readonly envFile?: string | undefined;
  /** More log directories to read the run's log parts from (other daemons' `--log-dir`), beside the state directory's. */
  readonly logDir?: readonly string[] | undefined;
}

/** Shows one run; exit 2 when there is no run by that id. */
export async function runsShowCommand(idArg: string, options: RunsShowOptions, io: Io): Promise<number> {
  const id = runIdArgument(idArg);
  const clock = clockOf(io);
  const extra = envFileValues(options.envFile, io);
  const state = stateDirOf(options.stateDir, io);
  const store = await openStore(state, clock, 'read');
  try {
    const run = await store.getRun(id);
    if (!run) throw new UsageError(`no run \`${id}\` in ${state.shown} (\`flux runs\` lists the runs there)`);
    const version = await store.getWorkflowVersion(run.workflowVersion);
    const reveal = revealFor(version?.text, io.env, extra);
    const { steps, startedAt, logProblems, logPath } = await stepsOf(run, store, state.logDir, reveal);
    const retry = (await store.listRuns({ retryOf: run.id, limit: 1 }))[0];
    const onDisk = await compareWithDisk(run.workflow, run.workflowVersion, options.workflows, io);
    const started = startedAt ?? (steps.find((s) => s.startedAt !== null)?.startedAt ?? null);
    const event = reveal.masker.maskValue(run.event, { keys: true });
    const approvals = await openApprovals(store, run);
    const escalation = await store.getEscalation(run.id);
    const attempts = attemptsOf(run, [state.logDir, ...(options.logDir ?? []).map((d) => (isAbsolute(d) ? d : join(io.cwd, d)))]);

    if (options.json) {
      io.stdout.write(`${safeJson({
        run: {
          ...runJson(run), started_at: isoOrNull(started), event, retried_as: retry ? { id: retry.id, status: retry.status } : null,
          lease: run.leaseOwner !== null ? { daemon: run.leaseOwner, until: isoOrNull(run.leaseUntil) } : null,
        },
        workflow_file: onDiskJson(onDisk),
        attempts: attempts.turns.map((t) => attemptJson(t, io.cwd)),
        steps: steps.map(stepJson),
        ...escalationJson(escalation),
        approvals: approvals.map((a) => ({ step: a.step, approvers: a.approvers, quorum: a.quorum, expires_at: isoOrNull(a.expiresAt), answers: a.answers.map((x) => ({ ...x, at: isoOrNull(x.at) })) })),
        secrets_missing: reveal.missing,
        run_log: logPath,
        run_log_parts: attempts.parts.map((p) => displayPath(p, io.cwd)),
        run_log_unreadable_lines: logProblems,
      })}\n`);
      return ExitCode.ok;
    }

    const lines: [string, string][] = [
      ['workflow', `${escapeControl(run.workflow)}, version ${shortHash(run.workflowVersion)} ${onDiskText(onDisk)}`],
      ['trigger', `${escapeControl(run.trigger)}, received ${shortTime(run.receivedAt)}${run.scheduledFor !== null ? `, scheduled for ${shortTime(run.scheduledFor)}` : ''}`],
      ['started', started === null ? '-' : shortTime(started)],
      ['attempts', String(run.attempt)],
    ];
    if (run.finishedAt !== null) lines.splice(3, 0, ['finished', `${shortTime(run.finishedAt)}, took ${progressOf(run, clock.now())}`]);
    else if (run.status !== 'waiting') lines.splice(3, 0, ['now', progressOf(run, clock.now())]);
    if (run.status === 'running' && run.leaseOwner !== null) lines.push(['daemon', leaseText(run, clock.now())]);
    if (run.error) lines.push(['error', `${run.error.step !== undefined ? `step \`${escapeControl(run.error.step)}\`: ` : ''}${escapeControl(reveal.masker.mask(run.error.message))}`]);
    if (run.status === 'waiting') lines.push(['waits', waitsText(run)]);
    for (const a of approvals) lines.push(['asks', approvalText(a)]);
    if (escalation) lines.push(['escalation', `to ${escapeControl(escalation.owner)}: ${ackState(escalation, clock.now())}`]);
    if (run.cancelRequested && run.status === 'running') lines.push(['cancel', 'requested: the run stops before its next step']);
    if (run.retryOf !== null) lines.push(['retry of', escapeControl(run.retryOf)]);
    if (retry) lines.push(['retried as', `${escapeControl(retry.id)} (${retry.status})`]);
    if (run.parentRunId !== null) lines.push(['started by', `run ${escapeControl(run.parentRunId)} (event chain depth ${run.chainDepth})`]);
    lines.push(['event', preview(event, 100)]);
    io.stdout.write(`run ${escapeControl(run.id)}  ${escapeControl(run.workflow)}  ${run.status}\n`);
    for (const [label, value] of lines) io.stdout.write(`  ${label.padEnd(11)}${value}\n`);
    io.stdout.write('\n');
    if (attempts.turns.length > 0) io.stdout.write(`${table(['ATTEMPT', 'HOW', 'DAEMON', 'STARTED', 'ENDED'], attempts.turns.map((t, i) => attemptRow(t, i === attempts.turns.length - 1 ? run : undefined, clock.now())))}\n`);
    if (steps.length === 0) io.stdout.write('no steps recorded yet\n');
    else io.stdout.write(table(['STEP', 'STATUS', 'ATTEMPTS', 'DURATION', 'OUTPUT / ERROR'], steps.map(stepRow)));
    if (!reveal.journalOutputs && steps.some((st) => st.outputTruncated || st.outputWithheld)) {
      const names = reveal.missing.map((n) => `\`${escapeControl(n)}\``).join(', ');
      io.stdout.write(`\nsome outputs are cut (the run log keeps 16 KiB of each) or not shown: their whole copy is the journal's, unmasked, and the secret values of ${names} are not in this environment to mask it with; set them, or pass --env-file, to see them whole\n`);
    }
    if (attempts.problems > 0) io.stdout.write(`\n${attempts.problems} line(s) of the run log's parts could not be read\n`);
    else if (logProblems > 0) io.stdout.write(`\n${logProblems} line(s) of the run log ${escapeControl(logPath ?? '')} could not be read\n`);
    return ExitCode.ok;
  } finally {
    await store.close();
  }
}

/**
 * The run's turns (attempts, and wakes within one) from the parts of its log in `dirs`: one
 * part per daemon that ran it, each under its own log directory at `<workflow>/<run-id>.jsonl`.
 */
function attemptsOf(run: RunRow, dirs: readonly string[]): { turns: RunTurn[]; parts: string[]; problems: number } {
  const parts: { path: string; records: RunRecord[] }[] = [];
  let problems = 0;
  for (const dir of new Set(dirs)) {
    const path = runLogPath(dir, run.workflow, run.id);
    if (!existsSync(path)) continue;
    try {
      const read = readRunLog(path);
      problems += read.problems.length;
      parts.push({ path, records: read.records.filter((r) => r.run_id === run.id) });
    } catch {
      problems++;
    }
  }
  return { turns: turnsOf(parts), parts: parts.map((p) => p.path), problems };
}

/** Who holds a running run, and whether that daemon still renews its lease. */
function leaseText(run: RunRow, now: number): string {
  const owner = escapeControl(run.leaseOwner ?? '');
  if (run.leaseUntil !== null && run.leaseUntil < now) return `${owner} held it; its lease lapsed at ${shortTime(run.leaseUntil)} (the daemon died or is cut off): another daemon resumes it`;
  return `${owner} holds it (lease until ${shortTime(run.leaseUntil)})`;
}

/**
 * One turn as a row. `current` is the run when this is its last turn: a turn without an end
 * is running while its daemon holds the lease, else its daemon died (or handed the run back).
 */
function attemptRow(t: RunTurn, current: RunRow | undefined, now: number): string[] {
  let ended: string;
  const holds = current?.status === 'running' && current.leaseOwner !== null && current.leaseOwner === t.daemon && (current.leaseUntil === null || current.leaseUntil >= now);
  if (t.end !== null) ended = `${shortTime(t.lastAt)} ${t.end}`;
  else if (holds) ended = `- running (last record ${shortTime(t.lastAt)})`;
  else ended = `- no end recorded (last record ${shortTime(t.lastAt)}): its daemon died or handed it back`;
  return [t.attempt === null ? '-' : String(t.attempt), t.reason ?? 'resume', t.daemon === null ? '-' : escapeControl(t.daemon), shortTime(t.startedAt), ended];
}

function attemptJson(t: RunTurn, cwd: string): Record<string, unknown> {
  return { attempt: t.attempt, reason: t.reason, daemon: t.daemon, started_at: isoOrNull(t.startedAt), last_record_at: isoOrNull(t.lastAt), end: t.end, log: displayPath(t.part, cwd) };
}

function waitsText(run: RunRow): string {
  const until = run.wakeAt !== null ? `until ${shortTime(run.wakeAt)}` : 'with no time limit';
  if (!run.waitingFor) return until;
  const match = run.waitingFor.match !== undefined ? ` matching \`${escapeControl(run.waitingFor.match)}\`` : '';
  return `for event \`${escapeControl(run.waitingFor.event)}\`${match} at step \`${escapeControl(waitingStep(run.waitingFor.step))}\`, ${until}${run.wakeAt !== null ? ' (then it goes on timed out)' : ''}`;
}

function onDiskText(d: OnDisk): string {
  switch (d.kind) {
    case 'same': return `(the same as ${d.file})`;
    case 'changed': return `(${d.file} has changed since: it is ${shortHash(d.hash)} now; this run goes on with its own version)`;
    case 'not-found': return `(no workflow of this name under ${d.where})`;
    default: return `(${d.reason})`;
  }
}

function onDiskJson(d: OnDisk): Record<string, unknown> {
  switch (d.kind) {
    case 'same':
    case 'changed': return { file: d.file, version: d.hash, same: d.kind === 'same' };
    case 'not-found': return { file: null, searched: d.where, same: null };
    default: return { file: null, same: null, reason: d.reason };
  }
}

function stepName(s: StepView): string {
  return escapeControl(s.index && s.index.length > 0 ? `${s.path}${s.index.map((i) => `[${i}]`).join('')}` : s.path);
}

function stepRow(s: StepView): string[] {
  let detail: string;
  if (s.status === 'stopped') detail = `the run ended while this step waited (until ${shortTime(s.wakeAt)}${s.event !== undefined ? ` for event \`${escapeControl(s.event)}\`` : ''})`;
  else if (s.status === 'waiting') detail = `until ${shortTime(s.wakeAt)}${s.event !== undefined ? ` for event \`${escapeControl(s.event)}\`` : ''}`;
  else if (s.error !== null) detail = preview(s.error, 100);
  else if (s.outputWithheld) detail = '(not shown: no masked copy in the run log)';
  else detail = `${outputPreview(s.output)}${s.outputTruncated ? ' (cut)' : ''}`;
  const status = `${s.status}${s.continued ? ', continued' : ''}${s.replayed ? ', replayed' : ''}`;
  return [stepName(s), status, s.attempts === null ? '-' : String(s.attempts), duration(s.durationMs), detail];
}

/** An output on one line; an HTTP call's as its status and body (its headers are in --json). */
function outputPreview(output: unknown): string {
  const o = output as { status?: unknown; body?: unknown } | null;
  if (o !== null && typeof o === 'object' && !Array.isArray(o) && typeof o.status === 'number' && 'body' in o) return `${o.status} ${preview(o.body, 72)}`;
  return preview(output, 76);
}

function stepJson(s: StepView): Record<string, unknown> {
  return {
    key: s.key, step: s.step, path: s.path, ...(s.index ? { index: s.index } : {}), status: s.status, attempts: s.attempts, duration_ms: s.durationMs,
    started_at: isoOrNull(s.startedAt), finished_at: isoOrNull(s.finishedAt), ...(s.httpStatus !== undefined ? { http_status: s.httpStatus } : {}),
    ...(s.continued ? { continued: true } : {}), ...(s.wakeAt !== undefined ? { wake_at: isoOrNull(s.wakeAt) } : {}), ...(s.event !== undefined ? { event: s.event } : {}),
    output: s.outputWithheld ? null : s.output, output_from: s.outputFrom, ...(s.outputTruncated ? { output_truncated: true } : {}), ...(s.outputWithheld ? { output_withheld: true } : {}),
    error: s.error, replayed: s.replayed,
  };
}
