/**
 * The approvals part of `flux demo`'s daemon act: two won deals whose discounts are above the
 * threshold in sales-handoff, so each run asks a sales manager and waits. The first request is
 * answered as a person would: the demo reads the link from the chat message the sandbox got,
 * opens the page and posts its form (an adjusted discount, "approve"). The second is answered
 * with `flux approve` on the daemon's state directory. Every line printed is an HTTP answer,
 * the command's own output, or the daemon's log.
 */
import { createHmac } from 'node:crypto';
import type { RunRow } from '../store/store.js';
import { approveCommand } from './approve.js';
import type { Io } from './io.js';

export interface ApprovalsActOptions {
  /** The daemon's address. */
  readonly url: string;
  readonly stateDir: string;
  readonly env: Readonly<Record<string, string>>;
  readonly samples: (name: string) => unknown;
  readonly out: (line: string) => void;
  /** Resolves once the daemon has nothing queued or running. */
  readonly settled: () => Promise<void>;
  readonly reader: { listRuns(filter: { workflow: string; status: RunRow['status'][] }): Promise<RunRow[]> };
}

/** Runs the two approvals; returns without throwing (what went wrong shows in the daemon's results). */
export async function approvalsAct(o: ApprovalsActOptions): Promise<void> {
  const sample = o.samples('sales-handoff') as Record<string, unknown>;
  o.out(`\nPOST /hooks/crm/deal-won for ${String(sample.deal_id)} with a 20% discount: above 10%, so sales-handoff asks a sales manager and waits`);
  o.out(`  → ${await deal({ ...sample, discount: 20 }, o)}`);
  await o.settled();
  const link = await approvalLink(o.env);
  if (link === undefined) {
    o.out('  (no approval request reached the sandbox Slack)');
    return;
  }
  o.out(`the request in #sales-managers carries the link ${shorten(link)}`);
  const page = await fetch(link);
  const html = await page.text();
  const buttons = [...html.matchAll(/<button[^>]*value="([^"]*)"/g)].map((m) => m[1]);
  o.out(`GET the link (the page a manager opens on a phone) → ${page.status}, buttons ${buttons.join(' / ')}`);
  const form = new URLSearchParams({ as: 'maria@northwind.example', 'input.discount': '15', choice: 'approve' });
  o.out('POST its form as maria@northwind.example: discount adjusted to 15, "approve" clicked');
  const answered = await fetch(link, { method: 'POST', body: form.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const confirmation = /<p class="done"[^>]*>(.*?)<\/p>/s.exec(await answered.text())?.[1]?.replace(/<[^>]+>/g, '') ?? '';
  o.out(`  → ${answered.status} ${confirmation}`);
  await o.settled();
  o.out(`the onboarding ticket the run then opened: ${await lastTicket(o.env)}`);

  const other = { ...sample, deal_id: 'D-101', title: 'Acme pilot', value: 3000, contact_email: 'luis@acme.example', discount: 25 };
  o.out(`\nPOST /hooks/crm/deal-won for D-101 with a 25% discount: this one is answered from the command line`);
  o.out(`  → ${await deal(other, o)}`);
  await o.settled();
  const waiting = await o.reader.listRuns({ workflow: 'sales-handoff', status: ['waiting'] });
  const run = waiting[0];
  if (!run) return;
  o.out(`$ flux approve ${run.id} --choice reject --as tom@northwind.example --state-dir <state>`);
  const io: Io = { stdout: { write: (s: string) => o.out(`  ${s.trimEnd()}`) }, stderr: { write: (s: string) => o.out(`  ${s.trimEnd()}`) }, env: {}, cwd: o.stateDir };
  await approveCommand(run.id, undefined, { choice: 'reject', as: 'tom@northwind.example', stateDir: o.stateDir }, io);
  await o.settled();
  o.out(`the onboarding ticket the run then opened: ${await lastTicket(o.env)}`);
}

/** The description of the last Intercom ticket the sandbox holds: what the run did with the answer. */
async function lastTicket(env: Readonly<Record<string, string>>): Promise<string> {
  const ticket = (await sandboxState(env))?.vendors.intercom?.tickets?.at(-1);
  return `"${String(ticket?.ticket_attributes?._default_description_ ?? '')}"`;
}

interface VendorState {
  readonly slack?: { channels?: { id: string; name: string }[]; messages?: { channel?: string; text?: string }[] };
  readonly intercom?: { tickets?: { ticket_attributes?: Record<string, unknown> }[] };
}

/** What the sandbox's vendors hold (Slack's messages, Intercom's tickets), read as the demo's own check. */
async function sandboxState(env: Readonly<Record<string, string>>): Promise<{ vendors: VendorState } | undefined> {
  if (env.SLACK_URL === undefined) return undefined;
  return (await (await fetch(`${new URL(env.SLACK_URL).origin}/_sandbox/state`)).json()) as { vendors: VendorState };
}

async function deal(event: unknown, o: ApprovalsActOptions): Promise<string> {
  const body = JSON.stringify(event);
  const signature = createHmac('sha256', o.env.CRM_WEBHOOK_SECRET ?? '').update(body).digest('hex');
  const res = await fetch(`${o.url}/hooks/crm/deal-won`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-crm-signature': signature } });
  return `${res.status} ${(await res.text()).trim()}`;
}

/** The approval link in the last message the sandbox's Slack got on #sales-managers. */
async function approvalLink(env: Readonly<Record<string, string>>): Promise<string | undefined> {
  const state = await sandboxState(env);
  if (state === undefined) return undefined;
  const managers = state.vendors.slack?.channels?.find((c) => c.name === 'sales-managers')?.id;
  const asked = (state.vendors.slack?.messages ?? []).filter((m) => m.channel === managers).at(-1);
  return /(https?:\/\/\S+\/approvals\/[A-Za-z0-9_.-]+)/.exec(asked?.text ?? '')?.[1];
}

/** A link shown without most of its token: the token is a credential, even in a demo. */
function shorten(link: string): string {
  const at = link.lastIndexOf('/');
  return `${link.slice(0, at + 1)}${link.slice(at + 1, at + 9)}…`;
}
