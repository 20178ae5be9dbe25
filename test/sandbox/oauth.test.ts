// OAuth against the contract sandbox: its token endpoints (Google, Xero, Box, PayPal) issue
// access tokens that expire, vendor prefixes refuse expired and foreign tokens with the
// vendor's own 401 (and still take the examples' plain test tokens), and a real `flux run`
// whose connection uses the refresh-token grant gets a 401 after the tokens are expired,
// refreshes once and succeeds, with exactly two token requests and no token in its run log.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { runFlux } from '../helpers.js';

let sandbox: Sandbox;
let clock: number;

beforeEach(async () => {
  clock = Date.parse('2026-11-24T09:00:00Z');
  sandbox = await startSandbox({ now: () => clock });
});
afterEach(async () => {
  await sandbox.close();
});

type Json = Record<string, unknown>;

async function token(path: string, form: Record<string, string>, authorization?: string): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${sandbox.url}${path}`, {
    method: 'POST', body: new URLSearchParams(form).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization ? { authorization } : {}) },
  });
  return { status: res.status, body: await res.json() as Json };
}

async function call(path: string, accessToken: string): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${sandbox.url}${path}`, { headers: { authorization: `Bearer ${accessToken}`, 'xero-tenant-id': '3e5ab6e4-2c6c-4a0c-9a4f-1d2a6b1c9d10' } });
  return { status: res.status, body: await res.json() as Json };
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const EVENT = '/google/calendar/v3/calendars/primary/events/g2f9p8s4c1h0r7b6e5a4d3c2b1';

describe('the sandbox token endpoints', () => {
  it('Google: a refresh-token grant issues a token the vendor takes until it expires (by its lifetime, or at once through the control endpoint)', async () => {
    const got = await token('/google/token', { grant_type: 'refresh_token', refresh_token: 'rt-user-1', client_id: 'flux-app', client_secret: 's3cret' });
    expect(got).toMatchObject({ status: 200, body: { token_type: 'Bearer', expires_in: 3600, access_token: expect.stringMatching(/^sbx_at_/) } });
    const access = String(got.body.access_token);
    expect((await call(EVENT, access)).status).toBe(200);
    // Gmail's API takes Google's tokens too.
    expect((await fetch(`${sandbox.url}/gmail/gmail/v1/users/me/drafts`, { method: 'POST', headers: { authorization: `Bearer ${access}`, 'content-type': 'application/json' }, body: JSON.stringify({ message: { raw: 'VG86IGFAYi5jbw' } }) })).status).toBe(200);
    clock += 3600 * 1000;
    const late = await call(EVENT, access);
    expect(late.status).toBe(401);
    expect(late.body).toMatchObject({ error: { code: 401, status: 'UNAUTHENTICATED', message: expect.stringMatching(/^The access token expired/) } });

    const fresh = String((await token('/google/token', { grant_type: 'refresh_token', refresh_token: 'rt-user-1', client_id: 'flux-app' })).body.access_token);
    expect((await call(EVENT, fresh)).status).toBe(200);
    const expired = await fetch(`${sandbox.url}/_sandbox/expire-tokens`, { method: 'POST' });
    expect(await expired.json()).toEqual({ expired: 1 });
    expect((await call(EVENT, fresh)).status).toBe(401);
    expect(sandbox.state.oauth).toEqual({ token_requests: { google: 2 }, issued: 2, live: 0 });
    expect(JSON.stringify(sandbox.state)).not.toContain('sbx_at_');
  });

  it('a token the vendor never issued, or another vendor issued, gets that vendor\'s 401; plain test tokens still pass', async () => {
    expect((await call(EVENT, 'sbx_at_made-up')).status).toBe(401);
    const xero = String((await token('/xero/connect/token', { grant_type: 'client_credentials', client_id: 'app', client_secret: 's' })).body.access_token);
    expect((await call(EVENT, xero)).status).toBe(401);
    const invoices = await call('/xero/api.xro/2.0/Invoices', xero);
    expect(invoices.status).toBe(200);
    clock += 3601 * 1000;
    expect(await call('/xero/api.xro/2.0/Invoices', xero)).toEqual({ status: 401, body: { Type: null, Title: 'Unauthorized', Status: 401, Detail: 'AuthenticationUnsuccessful' } });
    expect((await call('/xero/api.xro/2.0/Invoices', 'sandbox-token-0123')).status).toBe(200);
    const box = String((await token('/box/oauth2/token', { grant_type: 'refresh_token', refresh_token: 'rt-box', client_id: 'app', client_secret: 's' })).body.access_token);
    expect((await call('/box/2.0/folders/0/items', box)).status).toBe(200);
  });

  it('PayPal takes client credentials only in a Basic header, and refuses what is not a grant it knows', async () => {
    const inBody = await token('/paypal/v1/oauth2/token', { grant_type: 'client_credentials', client_id: 'app', client_secret: 's' });
    expect(inBody).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    const ok = await token('/paypal/v1/oauth2/token', { grant_type: 'client_credentials' }, basic('app', 's'));
    expect(ok.status).toBe(200);
    const search = await fetch(`${sandbox.url}/paypal/v2/invoicing/search-invoices`, { method: 'POST', headers: { authorization: `Bearer ${String(ok.body.access_token)}`, 'content-type': 'application/json' }, body: '{}' });
    expect(search.status).toBe(200);
    expect(await token('/paypal/v1/oauth2/token', { grant_type: 'password' }, basic('app', 's'))).toMatchObject({ status: 400, body: { error: 'unsupported_grant_type' } });
    expect(await token('/google/token', { grant_type: 'refresh_token', client_id: 'app' })).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
  });
});

describe('flux run with a refresh-token connection against the sandbox', () => {
  it('gets a 401 once the tokens are expired, refreshes once and succeeds; two token requests, no token in the log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flux-sandbox-oauth-'));
    const file = join(dir, 'wf.yaml');
    writeFileSync(file, `name: calendar-oauth
owner: ops@example.com
trigger: manual
secrets: [GOOGLE_CLIENT_SECRET, GOOGLE_REFRESH_TOKEN]
connections:
  cal:
    connector: google_calendar
    base_url: ${sandbox.url}/google
    auth:
      oauth2:
        grant: refresh_token
        token_url: ${sandbox.url}/google/token
        client_id: flux-sandbox-client
        client_secret: "\${{ secrets.GOOGLE_CLIENT_SECRET }}"
        refresh_token: "\${{ secrets.GOOGLE_REFRESH_TOKEN }}"
steps:
  - id: before
    uses: cal.get_event
    with: { calendar_id: primary, event_id: g2f9p8s4c1h0r7b6e5a4d3c2b1 }
  # What a token's end of life looks like to flux: the access token it cached is refused.
  - id: expire
    uses: http
    with: { method: POST, url: "${sandbox.url}/_sandbox/expire-tokens" }
  - id: after
    uses: cal.patch_event
    with: { calendar_id: primary, event_id: g2f9p8s4c1h0r7b6e5a4d3c2b1, summary: Onboarding call with Acme (moved) }
`);
    const secrets = { GOOGLE_CLIENT_SECRET: 'cs-sandbox-8f2a61', GOOGLE_REFRESH_TOKEN: 'rt-sandbox-4be91c' };
    const out = await runFlux(['run', file, '--log-dir', join(dir, 'logs')], { cwd: dir, env: secrets });
    expect(out.stderr + out.stdout).toContain('✓ after');
    expect(out.code).toBe(0);

    expect(sandbox.state.oauth).toMatchObject({ token_requests: { google: 2 }, issued: 2, live: 1 });
    const seen = sandbox.state.requests.filter((r) => r.vendor === 'google').map((r) => `${r.method} ${r.operation ?? ''} ${r.status}`);
    expect(seen).toEqual([
      'POST oauth token 200',
      'GET /calendar/v3/calendars/{calendarId}/events/{eventId} 200',
      'PATCH /calendar/v3/calendars/{calendarId}/events/{eventId} 401',
      'POST oauth token 200',
      'PATCH /calendar/v3/calendars/{calendarId}/events/{eventId} 200',
    ]);
    expect(sandbox.state.vendors.google!.events!.find((e) => e.id === 'g2f9p8s4c1h0r7b6e5a4d3c2b1')).toMatchObject({ summary: 'Onboarding call with Acme (moved)' });

    const logs = readdirSync(join(dir, 'logs'), { recursive: true, withFileTypes: true }).filter((f) => f.isFile()).map((f) => readFileSync(join(f.parentPath, f.name), 'utf8')).join('');
    expect(logs).toContain('"step":"after"');
    for (const text of [logs, out.stdout, out.stderr]) {
      expect(text).not.toContain('sbx_at_');
      for (const secret of Object.values(secrets)) expect(text).not.toContain(secret);
    }
  });
});
