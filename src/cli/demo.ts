/**
 * `flux demo`: start the sandbox in-process, run the example workflows in workflows/ against it
 * with the sample events in workflows/samples/, route the events they emit to the workflows
 * triggered by them, and show what happened. Waits are skipped (a 48-hour reminder takes no
 * time) so the demo finishes in seconds. No accounts, no network.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createConnectors } from '../connectors/index.js';
import { SkippingClock } from '../engine/clock.js';
import type { LoadedWorkflow, RunResult } from '../engine/types.js';
import { sandboxEnvironment, startSandbox, type SandboxState } from '../sandbox/server.js';
import { loadWorkflow } from '../workflow/load.js';
import { triggerOf } from '../workflow/model.js';
import { displayPath, ExitCode, UsageError, useColor, type Io } from './io.js';
import { version } from './version.js';
import { daemonAct } from './demo-daemon.js';
import { executeRun, preferFastExit } from './run.js';

/** The order the examples run in: a lead arrives first, the weekly report comes last. */
const ORDER = ['lead-intake', 'sales-handoff', 'crm-accounting-sync', 'invoice-follow-up', 'weekly-status-report'];

export async function demoCommand(options: { dir?: string | undefined; logDir?: string | undefined; daemon?: boolean | undefined }, io: Io): Promise<number> {
  preferFastExit();
  const dir = resolve(io.cwd, options.dir ?? 'workflows');
  if (!existsSync(dir)) throw new UsageError(`no ${displayPath(dir, io.cwd)}/ directory here; run flux demo from the flux folder, or pass --dir`);
  const workflows = new Map<string, LoadedWorkflow>();
  const texts = new Map<string, string>();
  for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    const path = join(dir, file);
    const shown = displayPath(path, io.cwd);
    const loaded = await loadWorkflow(path, shown, { allowSilent: true });
    if (!loaded.ok) throw new UsageError(loaded.ioMessage ?? `${shown} has errors; run flux lint ${shown}`);
    workflows.set(loaded.workflow.name, loaded.workflow);
    texts.set(loaded.workflow.name, loaded.text);
  }
  const sandbox = await startSandbox();
  const connectors = await createConnectors({ userAgent: `flux/${version()} (demo)` });
  const environment = sandboxEnvironment(sandbox.url);
  const logDir = resolve(io.cwd, options.logDir ?? join('.flux', 'logs'));
  const color = useColor(io, 'stdout', undefined);
  const results: { name: string; result: RunResult }[] = [];
  let act: Awaited<ReturnType<typeof daemonAct>> | undefined;
  io.stdout.write(`flux demo: the example workflows against a local sandbox at ${sandbox.url}\n(waits are skipped; secrets are demo values, masked as *** in every output)\n\n`);
  try {
    const queue: { name: string; event: unknown }[] = ORDER.filter((n) => workflows.has(n)).map((name) => ({ name, event: sample(dir, name) }));
    for (const name of workflows.keys()) if (!ORDER.includes(name) && triggerOf(workflows.get(name)!.value)?.kind !== 'event') queue.push({ name, event: sample(dir, name) });
    while (queue.length > 0) {
      const { name, event } = queue.shift()!;
      const workflow = workflows.get(name)!;
      const secrets = demoSecrets(workflow);
      const { result } = await executeRun({
        io, workflow, event, secrets, environment, connectors, logDir, dryRun: false, clock: new SkippingClock(), progress: true, color,
      });
      io.stdout.write('\n');
      results.push({ name, result });
      // Route emitted events to the workflows they trigger, as the daemon will.
      for (const emitted of result.emitted) {
        for (const [other, wf] of workflows) {
          const t = triggerOf(wf.value);
          if (t?.kind === 'event' && t.body.name === emitted.event) queue.unshift({ name: other, event: emitted.data });
        }
      }
    }
    if (options.daemon !== false) {
      const served = [...workflows.values()].map((workflow) => ({ workflow, text: texts.get(workflow.name)! }));
      const env = { ...environment, ...Object.assign({}, ...served.map((w) => demoSecrets(w.workflow))) as Record<string, string> };
      act = await daemonAct({ workflows: served, samples: (name) => sample(dir, name), env, connectors, logDir, io });
      io.stdout.write('\n');
    }
  } finally {
    await Promise.all(Object.values(connectors).map((c) => c.close?.()));
    await sandbox.close();
  }
  io.stdout.write(`What the sandbox's vendors hold after the demo (seeded records included):\n${received(sandbox.state).join('\n')}\n`);
  const failed = results.filter((r) => r.result.status !== 'succeeded');
  io.stdout.write(`\n${results.length} runs, ${results.length - failed.length} succeeded${failed.length ? `, ${failed.length} did not: ${failed.map((f) => `${f.name} (${f.result.status})`).join(', ')}` : ''}\n`);
  if (act) io.stdout.write(`the daemon: ${act.finished.length} runs ended, ${act.finished.filter((r) => r.status === 'succeeded').length} succeeded${act.problems.length ? `; not as expected: ${act.problems.join(', ')}` : ''}\n`);
  io.stdout.write(`run logs: ${displayPath(logDir, io.cwd)}/<workflow>/<run-id>.jsonl\n`);
  const logArg = options.logDir === undefined ? '' : ` ${displayPath(logDir, io.cwd)}`;
  io.stdout.write(`what they are worth (hours reclaimed, time to response, leaks): npx flux metrics${logArg}\n`);
  return failed.length === 0 && (act?.problems.length ?? 0) === 0 ? ExitCode.ok : ExitCode.problems;
}

/** What the demo left in the sandbox: each vendor's records by kind, and the Slack messages the runs posted. */
function received(state: SandboxState): string[] {
  const v = state.vendors;
  /** `1 company`, `4 contacts`: how many records of `kind` the vendor holds. */
  const n = (vendor: string, kind: string, one: string, many = `${one}s`) => {
    const count = v[vendor]?.[kind]?.length ?? 0;
    return `${count} ${count === 1 ? one : many}`;
  };
  const tagged = state.conversations.filter((c) => (c.tags as unknown[]).length > 0).length;
  const lines = [
    `  Intercom: ${n('intercom', 'contacts', 'contact')}, ${n('intercom', 'companies', 'company', 'companies')}, ${n('intercom', 'notes', 'note')}, ${n('intercom', 'tickets', 'ticket')}`,
    `  Google Calendar: ${n('google', 'events', 'event')}; Xero: ${n('xero', 'contacts', 'contact')}, ${n('xero', 'invoices', 'invoice')}; Notion: ${n('notion', 'pages', 'page')}`,
    `  email: ${n('resend', 'emails', 'email')} through Resend, ${n('sendgrid', 'mail', 'email')} through SendGrid; help desk: ${tagged} conversation${tagged === 1 ? '' : 's'} tagged`,
    `  Slack: ${n('slack', 'messages', 'message')}`,
  ];
  const channels = new Map((v.slack?.channels ?? []).map((c) => [c.id, c.name]));
  // The first message is the seeded welcome; the runs' come after it.
  for (const m of (v.slack?.messages ?? []).slice(1, 9)) lines.push(`    #${String(channels.get(m.channel) ?? m.channel)}: ${String(m.text)}`);
  return lines;
}

/** Demo values for a workflow's secrets: recognisable, and masked as *** wherever they show. */
function demoSecrets(workflow: LoadedWorkflow): Record<string, string> {
  return Object.fromEntries(((workflow.value.secrets as string[] | undefined) ?? []).map((s) => [s, `demo-${s.toLowerCase().replace(/_/g, '-')}-4f9a`]));
}

function sample(dir: string, name: string): unknown {
  const file = join(dir, 'samples', `${name}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as unknown) : {};
}

/**
 * `flux sandbox`: run the sandbox until interrupted, for trying workflows by hand. It prints
 * the base URL of each vendor (the examples' env settings) and its control endpoints.
 */
export async function sandboxCommand(options: { port: number }, io: Io): Promise<number> {
  const sandbox = await startSandbox({ port: options.port });
  io.stdout.write(`flux sandbox listening on ${sandbox.url}\n`);
  for (const [k, v] of Object.entries(sandboxEnvironment(sandbox.url))) io.stdout.write(`  ${k}=${v}\n`);
  io.stdout.write(`state: ${sandbox.url}/_sandbox/state\n`);
  io.stdout.write(`rate-limit a vendor: curl -X POST ${sandbox.url}/_sandbox/fail -d '{"vendor":"slack","status":429,"count":1,"retry_after":2}'\n(Ctrl-C to stop)\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await sandbox.close();
  return ExitCode.ok;
}
