/**
 * The second act of `flux demo`: the daemon at work, in this process, against the sandbox.
 * It serves the example workflows from a temporary state directory on a clock the demo moves
 * by hand, and shows what an operator would see: a Stripe-signed payment webhook accepted
 * (202) and its redelivery deduplicated (200), a signed lead whose run emits an event that
 * starts the booking workflow, that run parking on a 48-hour wait and resuming when the clock
 * is moved past it, and a weekday schedule firing when its time comes. Every line printed is
 * either the HTTP answer or the daemon's own log line. Between the lead and the waits, two won
 * deals with large discounts are put to a sales manager (demo-approvals.ts): one answered on
 * the approval page, one with `flux approve`.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectorRuntime } from '../connectors/runtime.js';
import { startDaemon } from '../daemon/daemon.js';
import { createDaemonLog } from '../daemon/log.js';
import { SkippingClock } from '../engine/clock.js';
import type { LoadedWorkflow } from '../engine/types.js';
import { Masker } from '../secrets/masker.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import { TERMINAL_STATES, type RunRow } from '../store/store.js';
import { nextFire } from '../triggers/cron-next.js';
import { asRecord } from '../workflow/model.js';
import { approvalsAct } from './demo-approvals.js';
import type { Io } from './io.js';

export interface DaemonActOptions {
  readonly workflows: readonly { readonly workflow: LoadedWorkflow; readonly text: string }[];
  /** Sample events by workflow name. */
  readonly samples: (name: string) => unknown;
  /** Secret values by name (demo values) and the sandbox's settings. */
  readonly env: Readonly<Record<string, string>>;
  readonly connectors: Readonly<Record<string, ConnectorRuntime>>;
  readonly logDir: string;
  readonly io: Io;
}

/** How long the demo waits for the daemon to settle after each thing it does. */
const SETTLE_MS = 15_000;

/** Runs the daemon act; resolves to the runs it saw end, and those that did not succeed. */
export async function daemonAct(o: DaemonActOptions): Promise<{ finished: RunRow[]; problems: string[] }> {
  const out = (line: string) => o.io.stdout.write(`${line}\n`);
  const stateDir = mkdtempSync(join(tmpdir(), 'flux-demo-daemon-'));
  const clock = new SkippingClock();
  const masker = new Masker();
  for (const [name, value] of Object.entries(o.env)) if (/SECRET|TOKEN/.test(name)) masker.add(value);
  const log = createDaemonLog({ format: 'text', write: (line) => out(`  │ ${line.replace(/^\S+ /, '').trimEnd()}`), now: () => clock.now(), masker });
  const daemon = await startDaemon({
    workflows: o.workflows, stateDir, host: '127.0.0.1', port: 0, concurrency: 10, leaseMs: 10_000, pollMs: 50,
    env: o.env, clock, connectors: o.connectors, logDir: o.logDir, log, masker,
  });
  const reader = await openSqliteStore({ path: join(stateDir, 'flux.db'), now: () => clock.now(), readOnly: true });
  const problems: string[] = [];
  try {
    out(`The daemon at work: flux daemon on ${daemon.url}, state in a temporary directory, time moved by hand`);
    out('(lines marked │ are the daemon\'s own log)\n');

    const payment = JSON.stringify(o.samples('payment-received'));
    const t = Math.floor(clock.now() / 1000);
    const stripe = `t=${t},v1=${hmac(o.env.PAYMENTS_WEBHOOK_SECRET ?? '', `${t}.${payment}`)}`;
    out('POST /hooks/payments, signed as Stripe signs (Stripe-Signature: t=…,v1=…)');
    out(`  → ${await post(daemon.url, '/hooks/payments', payment, { 'stripe-signature': stripe })}`);
    await settled(reader, SETTLE_MS);
    out('the same delivery again, as providers retry');
    out(`  → ${await post(daemon.url, '/hooks/payments', payment, { 'stripe-signature': stripe })}`);
    out('the same body with a forged signature');
    out(`  → ${await post(daemon.url, '/hooks/payments', payment, { 'stripe-signature': `t=${t},v1=${'0'.repeat(64)}` })}`);

    const lead = JSON.stringify(o.samples('lead-intake'));
    out('\nPOST /hooks/leads, HMAC-signed: the run emits lead.qualified, which starts appointment-reminders');
    out(`  → ${await post(daemon.url, '/hooks/leads', lead, { 'x-signature': hmac(o.env.LEADS_WEBHOOK_SECRET ?? '', lead) })}`);
    await settled(reader, SETTLE_MS);

    await approvalsAct({ url: daemon.url, stateDir, env: o.env, samples: o.samples, out, settled: () => settled(reader, SETTLE_MS), reader });

    // Waiting runs hold no memory: move the clock to each wake time and they resume.
    for (let turn = 0; turn < 5; turn++) {
      const waiting = await reader.listRuns({ status: 'waiting' });
      const wake = Math.min(...waiting.map((r) => r.wakeAt ?? Infinity));
      if (!Number.isFinite(wake)) break;
      const ahead = wake - clock.now();
      out(`\nclock moved ${formatHours(ahead)} on, to ${new Date(wake).toISOString()}: the wait is over`);
      await clock.sleep(Math.max(0, ahead));
      await settled(reader, SETTLE_MS);
    }

    const scheduled = o.workflows.map((w) => w.workflow).find((w) => w.name === 'invoice-follow-up');
    const schedule = scheduled ? asRecord(asRecord(scheduled.value.trigger)?.schedule) : undefined;
    if (schedule) {
      const at = nextFire(String(schedule.cron), typeof schedule.timezone === 'string' ? schedule.timezone : undefined, clock.now());
      if (at !== undefined) {
        out(`\nclock moved to ${new Date(at).toISOString()}: invoice-follow-up's schedule (${String(schedule.cron)}, ${String(schedule.timezone ?? 'UTC')}) comes due`);
        await clock.sleep(at - clock.now());
        await until(async () => (await reader.listRuns({ workflow: 'invoice-follow-up' })).length > 0, SETTLE_MS);
        await settled(reader, SETTLE_MS);
      }
    }
    const finished = (await reader.listRuns({ limit: 1000 })).filter((r) => TERMINAL_STATES.includes(r.status));
    for (const r of finished) if (r.status !== 'succeeded') problems.push(`${r.workflow} (${r.status})`);
    const open = await reader.listRuns({ status: ['queued', 'running', 'waiting'] });
    for (const r of open) problems.push(`${r.workflow} (still ${r.status})`);
    return { finished, problems };
  } finally {
    await reader.close();
    await daemon.stop(5_000);
    rmSync(stateDir, { recursive: true, force: true });
  }
}

function hmac(secret: string, text: string): string {
  return createHmac('sha256', secret).update(text).digest('hex');
}

async function post(base: string, path: string, body: string, headers: Record<string, string>): Promise<string> {
  const res = await fetch(`${base}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  const text = (await res.text()).trim();
  return `${res.status} ${text}`;
}

/**
 * Resolves once no run has been queued or running for a few polls in a row (an emitted event
 * becomes a run at the next delivery pass), or after `ms`.
 */
async function settled(reader: { listRuns: (f: { status: RunRow['status'][] }) => Promise<RunRow[]> }, ms: number): Promise<void> {
  let quiet = 0;
  await until(async () => {
    quiet = (await reader.listRuns({ status: ['queued', 'running'] })).length === 0 ? quiet + 1 : 0;
    return quiet >= 8;
  }, ms);
}

async function until(check: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
}

function formatHours(ms: number): string {
  const h = ms / 3_600_000;
  return h >= 1 ? `${Math.round(h * 10) / 10}h` : `${Math.round(ms / 1000)}s`;
}
