// The examples as they ship, against the contract sandbox: crm-accounting-sync's poll on its
// Intercom connection finds the customer whose deal was won, and a run for it records the
// customer in Xero, remembers the Xero contact in Intercom, and drafts the invoice; a second
// run for the same customer (as the next poll would see it) goes to the same Xero contact
// instead of creating it again.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createConnectors } from '../../src/connectors/index.js';
import type { ConnectorRuntime } from '../../src/connectors/runtime.js';
import { sandboxEnvironment, startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { Masker } from '../../src/secrets/masker.js';
import { pollOnce, pollSpec } from '../../src/triggers/poll.js';
import { loadWorkflow } from '../../src/workflow/load.js';
import { finished, run } from '../engine/harness.js';
import { ROOT } from '../helpers.js';

const FILE = join(ROOT, 'workflows', 'crm-accounting-sync.yaml');
const SECRETS = { INTERCOM_TOKEN: 'intercom-token-1', XERO_TOKEN: 'xero-token-1234', SLACK_BOT_TOKEN: 'xoxb-slack-1234' };
type Json = Record<string, unknown>;

let sandbox: Sandbox;
let connectors: Record<string, ConnectorRuntime>;
beforeEach(async () => {
  sandbox = await startSandbox();
  connectors = await createConnectors({ userAgent: 'flux-test' });
});
afterEach(async () => {
  await Promise.all(Object.values(connectors).map((c) => c.close?.()));
  await sandbox.close();
});

async function polled(): Promise<Json[]> {
  const loaded = await loadWorkflow(FILE, 'crm-accounting-sync.yaml');
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
  const result = await pollOnce({
    workflow: loaded.workflow, spec: pollSpec(loaded.workflow)!, connectors, secrets: SECRETS, environment: sandboxEnvironment(sandbox.url),
    masker: new Masker(), cursor: null, signal: new AbortController().signal,
  });
  if (!result.ok) throw new Error(result.message);
  return result.items.map((i) => i.item as Json);
}

describe('crm-accounting-sync against the sandbox', () => {
  it('polls Intercom on its named connection, and syncs the won customer into Xero once', async () => {
    const items = await polled();
    expect(items.map((i) => i.email)).toEqual(['luis@acme.example']);
    const first = await run(readFileSync(FILE, 'utf8'), { event: items[0], secrets: SECRETS, environment: sandboxEnvironment(sandbox.url) });
    expect(first.result.status).toBe('succeeded');
    const xero = sandbox.state.vendors.xero!;
    const contact = xero.contacts!.find((c) => c.Name === 'Acme')!;
    expect(contact).toMatchObject({ EmailAddress: 'luis@acme.example', ContactNumber: 'intercom-124' });
    expect(xero.invoices!.filter((i) => (i.Contact as Json).ContactID === contact.ContactID)).toMatchObject([{ Status: 'DRAFT', Total: 3000 }]);
    // The next poll sees the customer with its Xero contact remembered: no second contact.
    const [again] = await polled();
    expect((again!.custom_attributes as Json).xero_contact_id).toBe(contact.ContactID);
    const second = await run(readFileSync(FILE, 'utf8'), { event: again, secrets: SECRETS, environment: sandboxEnvironment(sandbox.url) });
    expect(second.result.status).toBe('succeeded');
    expect(finished(second.journal, 'customer')?.status).toBe('skipped');
    expect(finished(second.journal, 'invoice')?.status).toBe('succeeded');
    expect(xero.contacts!.filter((c) => c.Name === 'Acme')).toHaveLength(1);
  });
});
