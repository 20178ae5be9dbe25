/**
 * `flux run` of a workflow with a poll trigger (and no --event): one poll now, then one run per
 * item found, each with the item as its event, one after another. Nothing is kept between
 * invocations: every item is new here (the daemon keeps the seen keys and the cursor). Exit 0
 * when every run succeeded (or nothing was found), 1 when the poll or any run failed.
 * With --dry-run the poll's first request is rendered and shown, not sent, and nothing runs.
 */
import type { ConnectorRuntime } from '../connectors/runtime.js';
import type { LoadedWorkflow, RunResult } from '../engine/types.js';
import { renderValue } from '../expr/evaluate.js';
import { Masker } from '../secrets/masker.js';
import { escapeControl } from '../text/escape.js';
import { callOperation, pollContext, pollOnce, type PollSpec } from '../triggers/poll.js';
import { asRecord } from '../workflow/model.js';
import { ExitCode, type Io } from './io.js';

/** What a polled `flux run` needs besides the poll. */
export interface PolledRunSetup {
  readonly io: Io;
  readonly workflow: LoadedWorkflow;
  readonly spec: PollSpec;
  readonly secrets: Record<string, string>;
  readonly environment: Record<string, string | undefined>;
  readonly connectors: Record<string, ConnectorRuntime>;
  readonly dryRun: boolean;
  readonly json: boolean;
  readonly signal: AbortSignal;
  /** Runs one item (executeRun in run.ts); resolves to its result and log. */
  readonly runItem: (event: unknown) => Promise<{ result: RunResult; logPath: string }>;
}

/** Polls once and runs each item found; returns the exit code. */
export async function runPolled(s: PolledRunSetup): Promise<number> {
  const { io, workflow, spec } = s;
  const masker = new Masker();
  const deps = { workflow, spec, connectors: s.connectors, secrets: s.secrets, environment: s.environment, masker, cursor: null, signal: s.signal };
  if (s.dryRun) return dryRunPoll(s, deps);
  const polled = await pollOnce(deps);
  if (!polled.ok) {
    const message = escapeControl(polled.message);
    if (s.json) io.stdout.write(`${JSON.stringify({ poll: { ok: false, error: message, pages: polled.pages }, runs: [] }, null, 2)}\n`);
    io.stderr.write(`flux: the poll of ${workflow.name} failed${polled.pages > 1 ? ` at page ${polled.pages}` : ''}: ${message}\n`);
    return ExitCode.problems;
  }
  const n = polled.items.length;
  const more = polled.morePages ? `; more pages than paginate.max_pages (${spec.paginate?.maxPages ?? 0}) were left` : '';
  const dropped = polled.dropped > 0 ? `; ${polled.dropped} items past the ${n} a poll takes were left` : '';
  if (!s.json) {
    io.stdout.write(`poll ${workflow.name}: ${spec.uses}, ${polled.pages} page${polled.pages === 1 ? '' : 's'}, ${n} item${n === 1 ? '' : 's'}${more}${dropped}`);
    io.stdout.write(n === 0 ? '; nothing to run\n' : `; running each (flux run keeps no poll state: every item is new)\n\n`);
  }
  const runs: (RunResult & { key: string; log: string })[] = [];
  for (const { key, item } of polled.items) {
    if (s.signal.aborted) break;
    const { result, logPath } = await s.runItem(item);
    runs.push({ key, ...result, log: logPath });
    if (!s.json) io.stdout.write('\n');
  }
  const failed = runs.filter((r) => r.status !== 'succeeded');
  if (s.json) {
    io.stdout.write(`${JSON.stringify({ poll: { ok: true, items: n, pages: polled.pages, cursor: polled.cursor, more_pages: polled.morePages }, runs }, null, 2)}\n`);
  } else if (n > 0) {
    const counts = new Map<string, number>();
    for (const r of runs) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
    const summary = [...counts].map(([status, c]) => `${c} ${status}`).join(', ');
    io.stdout.write(`poll ${workflow.name}: ${runs.length} run${runs.length === 1 ? '' : 's'}: ${summary}\n`);
    for (const r of failed) io.stdout.write(`  ${r.status}: item ${escapeControl(JSON.stringify(r.key))}: ${escapeControl(r.error?.message ?? '')}\n`);
  }
  return failed.length > 0 || runs.length < n ? ExitCode.problems : ExitCode.ok;
}

/** Renders the poll's first request without sending it. */
async function dryRunPoll(s: PolledRunSetup, deps: Parameters<typeof pollOnce>[0]): Promise<number> {
  const ctx = pollContext(deps);
  const params = asRecord(renderValue(s.spec.with, { contexts: ['poll', 'secrets', 'env', 'workflow'], loopVars: [] }, ctx)) ?? {};
  const outcome = await callOperation(deps, s.spec.uses, params, ctx, { signal: s.signal, key: `poll:${s.workflow.name}`, timeoutMs: 60_000, dryRun: true });
  const request = deps.masker.maskValue(asRecord(outcome.output)?.request ?? null);
  if (s.json) s.io.stdout.write(`${JSON.stringify({ poll: { dry_run: true, request }, runs: [] }, null, 2)}\n`);
  else s.io.stdout.write(`poll ${s.workflow.name} (dry run, nothing is sent): ${escapeControl(JSON.stringify(request))}\n`);
  if (!outcome.ok) {
    s.io.stderr.write(`flux: the poll of ${s.workflow.name} failed: ${escapeControl(deps.masker.mask(outcome.error?.message ?? 'the call failed'))}\n`);
    return ExitCode.problems;
  }
  return ExitCode.ok;
}
