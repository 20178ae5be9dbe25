// `flux connect` end to end: a real spawned flux against the local authorization server. The
// test reads the URL flux prints, "visits" it (following the redirect to flux's loopback
// server as a browser would), and checks the refresh token flux prints works, in-process and
// in a real `flux run` of the workflow. Also: state mismatch, access_denied, a refused
// exchange, timeout, usage errors, and that no token or secret reaches stderr.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHttp } from '../../src/connectors/http.js';
import { Masker } from '../../src/secrets/masker.js';
import { BIN, runFlux, type Captured } from '../helpers.js';
import { startAuthServer, type AuthServer } from './auth-server.js';

let server: AuthServer;
let dir: string;
beforeEach(async () => {
  server = await startAuthServer();
  dir = mkdtempSync(join(tmpdir(), 'flux-connect-'));
});
afterEach(async () => {
  await server.close();
});

interface Started {
  /** The authorization URL flux printed. */
  readonly url: Promise<string>;
  readonly done: Promise<Captured>;
}

/** Spawns `flux connect ...`; `url` resolves once the authorization URL is on stderr. */
function connect(args: string[], env: Record<string, string> = {}): Started {
  const child = spawn(process.execPath, [BIN, 'connect', ...args], { cwd: dir, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let found: (url: string) => void = () => {};
  const url = new Promise<string>((resolve) => {
    found = resolve;
  });
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    const m = /^ {2}(http:\/\/127\.0\.0\.1:\d+\/authorize\?\S+)$/m.exec(stderr);
    if (m) found(m[1]!);
  });
  const done = new Promise<Captured>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
  return { url, done };
}

/** What a browser does: GET the authorization URL, follow its redirect to the loopback server. */
async function visit(url: string): Promise<{ status: number; page: string; location: string }> {
  const first = await fetch(url, { redirect: 'manual' });
  const location = first.headers.get('location');
  if (first.status !== 302 || !location) throw new Error(`authorize answered ${first.status}: ${await first.text()}`);
  const second = await fetch(location);
  return { status: second.status, page: await second.text(), location };
}

const endpoints = () => ['--authorize-url', `${server.url}/authorize`, '--token-url', `${server.url}/token`];

/** No token the server issued, and none of `more`, anywhere in `text`. */
function expectNoSecrets(text: string, ...more: string[]): void {
  for (const t of [...server.issued, ...more]) expect(text).not.toContain(t);
}

describe('flux connect', () => {
  it('runs the PKCE flow and prints a refresh token that works with the refresh-token grant', async () => {
    const run = connect(['myapi', ...endpoints(), '--client-id', 'flux-cli', '--scope', 'read', '--scope', 'write']);
    const url = new URL(await run.url);
    const page = await visit(url.toString());
    expect(page.status).toBe(200);
    expect(page.page).toContain('flux is authorized');
    const out = await run.done;
    expect(out.code).toBe(0);
    // One line on stdout, an env-file line; the token is one the server holds as valid.
    const m = /^MYAPI_REFRESH_TOKEN=(rt-[A-Za-z0-9_-]+)\n$/.exec(out.stdout);
    expect(m).not.toBeNull();
    const refresh = m![1]!;
    expect(server.refreshTokens.has(refresh)).toBe(true);
    expect(out.stderr).toContain('Store it as the secret MYAPI_REFRESH_TOKEN');
    expectNoSecrets(out.stderr);
    // What went over the wire: S256 PKCE, the loopback redirect, the verifier at the exchange.
    const authorize = server.authorizeRequests[0]!;
    expect(authorize).toMatchObject({ response_type: 'code', client_id: 'flux-cli', scope: 'read write', code_challenge_method: 'S256' });
    expect(authorize.redirect_uri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    const exchange = server.tokenRequests[0]!.form;
    expect(exchange).toMatchObject({ grant_type: 'authorization_code', client_id: 'flux-cli', redirect_uri: authorize.redirect_uri });
    expect(exchange.code_verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(exchange.client_secret).toBeUndefined();
    // The loopback server is gone once flux has exited.
    await expect(fetch(authorize.redirect_uri!)).rejects.toThrow();

    const http = await createHttp({ now: () => server.now });
    try {
      const outcome = await http.call(
        { operation: 'request', params: { path: '/api/me' }, connection: { base_url: server.url, auth: { oauth2: { grant: 'refresh_token', token_url: `${server.url}/token`, client_id: 'flux-cli', refresh_token: refresh } } } },
        { signal: new AbortController().signal, idempotencyKey: 'k', masker: new Masker(), dryRun: false },
      );
      expect(outcome.ok).toBe(true);
    } finally {
      await http.close?.();
    }
  });

  it('reads a connection of a workflow file, and `flux run` then uses the token it printed', async () => {
    const workflow = join(dir, 'crm.yaml');
    writeFileSync(workflow, `name: crm-sync
owner: ops@example.com
trigger: manual
secrets: [APP_SECRET, CRM_REFRESH]
connections:
  crm:
    base_url: ${server.url}
    auth:
      oauth2:
        grant: refresh_token
        authorize_url: ${server.url}/authorize
        token_url: ${server.url}/token
        client_id: flux-app
        client_secret: "\${{ secrets.APP_SECRET }}"
        scope: contacts.read
        refresh_token: "\${{ secrets.CRM_REFRESH }}"
steps:
  - id: me
    uses: crm.request
    with: { path: /api/me }
`);
    const run = connect(['crm', '--workflow', workflow], { APP_SECRET: 'app-secret-value' });
    await visit(await run.url);
    const out = await run.done;
    expect(out.code).toBe(0);
    expect(server.authorizeRequests[0]).toMatchObject({ client_id: 'flux-app', scope: 'contacts.read' });
    expect(server.tokenRequests[0]!.form.client_secret).toBe('app-secret-value');
    const line = out.stdout.trim();
    expect(line).toMatch(/^CRM_REFRESH=rt-/);
    expectNoSecrets(out.stderr, 'app-secret-value');

    // Store it as the printed line says (an env file), and run the workflow with it.
    writeFileSync(join(dir, '.env'), `APP_SECRET=app-secret-value\n${line}\n`);
    const ran = await runFlux(['run', workflow, '--log-dir', join(dir, 'logs')], { cwd: dir });
    expect(ran.code).toBe(0);
    expect(server.apiCalls.at(-1)).toMatchObject({ path: '/api/me', status: 200 });
    const files = readdirSync(join(dir, 'logs'), { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
    const logs = files.map((f) => readFileSync(join(f.parentPath, f.name), 'utf8')).join('');
    expect(logs).toContain('"type":"step.finished"');
    expectNoSecrets(ran.stdout + ran.stderr + logs, 'app-secret-value');
  });

  it('asks for the connector\'s scopes and its vendor parameters', async () => {
    const run = connect(['google_calendar', ...endpoints(), '--client-id', 'flux-cli', '--timeout', '10s']);
    await visit(await run.url);
    expect((await run.done).code).toBe(0);
    expect(server.authorizeRequests[0]).toMatchObject({ scope: 'https://www.googleapis.com/auth/calendar.events', access_type: 'offline', prompt: 'consent' });
  });

  it('refuses a redirect whose state does not match, and exchanges nothing', async () => {
    server.authorizeMode = 'wrong-state';
    const run = connect(['myapi', ...endpoints(), '--client-id', 'flux-cli']);
    const page = await visit(await run.url);
    expect(page.status).toBe(400);
    const out = await run.done;
    expect(out.code).toBe(1);
    expect(out.stdout).toBe('');
    expect(out.stderr).toContain("flux connect: the redirect's state does not match this authorization request");
    expect(server.tokenRequests).toEqual([]);
  });

  it('says the user refused (access_denied)', async () => {
    server.authorizeMode = 'deny';
    const run = connect(['myapi', ...endpoints(), '--client-id', 'flux-cli']);
    await visit(await run.url);
    const out = await run.done;
    expect(out.code).toBe(1);
    expect(out.stdout).toBe('');
    expect(out.stderr).toContain('flux connect: authorization refused: access_denied: The user denied access.\n');
  });

  it('reports a refused exchange in the endpoint\'s words, without the secret', async () => {
    const run = connect(['myapi', ...endpoints(), '--client-id', 'flux-app'], { FLUX_CLIENT_SECRET: 'not-the-app-secret' });
    await visit(await run.url);
    const out = await run.done;
    expect(out.code).toBe(1);
    expect(out.stdout).toBe('');
    expect(out.stderr).toContain(`flux connect: OAuth2: invalid_client: Client authentication failed. (token endpoint ${server.url}, HTTP 401)`);
    expect(server.tokenRequests[0]!.form.client_secret).toBe('not-the-app-secret');
    expectNoSecrets(out.stderr, 'not-the-app-secret');
  });

  it('gives up after --timeout with a message, never hangs', async () => {
    const run = connect(['myapi', ...endpoints(), '--client-id', 'flux-cli', '--timeout', '1s']);
    const redirectUri = new URL(await run.url).searchParams.get('redirect_uri')!;
    const out = await run.done;
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('flux connect: no redirect came back within 1s; run flux connect again');
    await expect(fetch(redirectUri)).rejects.toThrow();
  });

  it('exit 2 for usage mistakes', async () => {
    const cases: [string[], RegExp][] = [
      [['nope', '--client-id', 'x'], /`nope` is not a connector with OAuth\. Connectors with OAuth: box, gmail/],
      [['slack', '--client-id', 'x'], /connector `slack` has no OAuth endpoints/],
      [['xero'], /needs the OAuth client's id: give --client-id/],
      [['xero', '--client-id', 'x', '--port', 'high'], /--port takes a port number/],
      [['xero', '--client-id', 'x', '--timeout', 'soon'], /--timeout: invalid duration/],
      [['myapi', '--client-id', 'x', '--authorize-url', 'http://auth.example.com/a', '--token-url', 'https://auth.example.com/t'], /must be an https URL/],
      [['crm', '--workflow', join(dir, 'missing.yaml')], /--workflow .*missing\.yaml: cannot read the file/],
    ];
    for (const [args, message] of cases) {
      const out = await runFlux(['connect', ...args], { cwd: dir });
      expect({ args, code: out.code }).toEqual({ args, code: 2 });
      expect(out.stderr).toMatch(message);
      expect(out.stderr).not.toMatch(/at .*\.js:\d+/);
    }
  });
});
