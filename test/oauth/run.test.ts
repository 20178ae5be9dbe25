// A real `flux run` with a refresh-token connection against the local authorization server:
// the rotated-refresh-token warning in the run log and on the terminal, the invalid_grant
// message, the dry run's placeholder, and no token in the log or the output.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runFlux } from '../helpers.js';
import { startAuthServer, type AuthServer } from './auth-server.js';

let server: AuthServer;
let dir: string;
beforeEach(async () => {
  server = await startAuthServer();
  dir = mkdtempSync(join(tmpdir(), 'flux-oauth-run-'));
});
afterEach(async () => {
  await server.close();
});

function workflow(): string {
  const file = join(dir, 'wf.yaml');
  writeFileSync(file, `name: books
owner: ops@example.com
trigger: manual
secrets: [BOOKS_REFRESH]
connections:
  books:
    base_url: ${server.url}
    auth: { oauth2: { grant: refresh_token, token_url: "${server.url}/token", client_id: flux-cli, refresh_token: "\${{ secrets.BOOKS_REFRESH }}" } }
steps:
  - id: first
    uses: books.request
    with: { path: /api/invoices }
  - id: second
    uses: books.request
    with: { path: /api/contacts }
`);
  return file;
}

function logs(): { text: string; records: Record<string, unknown>[] } {
  const files = readdirSync(join(dir, 'logs'), { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
  const text = files.map((f) => readFileSync(join(f.parentPath, f.name), 'utf8')).join('');
  return { text, records: text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('flux run with a refresh-token connection', () => {
  it('warns in the run log and on the terminal when the refresh token is rotated, and shows no token', async () => {
    server.rotate = true;
    const refresh = server.grantRefreshToken('flux-cli');
    const out = await runFlux(['run', workflow(), '--log-dir', join(dir, 'logs')], { cwd: dir, env: { BOOKS_REFRESH: refresh } });
    expect(out.code).toBe(0);
    expect(server.tokenRequests).toHaveLength(1); // both steps share the token
    const { text, records } = logs();
    const warnings = records.filter((r) => r.type === 'step.warning');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ step: 'first', attempt: 1 });
    expect(String(warnings[0]!.message)).toContain('issued a new refresh token for client `flux-cli`');
    expect(out.stdout + out.stderr).toContain('warning: OAuth2: the token endpoint');
    expect(server.issued).toHaveLength(3);
    for (const t of server.issued) expect(text + out.stdout + out.stderr).not.toContain(t);
  });

  it('fails the step with the token endpoint\'s invalid_grant, in words', async () => {
    const out = await runFlux(['run', workflow(), '--log-dir', join(dir, 'logs')], { cwd: dir, env: { BOOKS_REFRESH: 'rt-revoked-by-the-user' } });
    expect(out.code).toBe(1);
    const message = `OAuth2: invalid_grant: Token has been expired or revoked. (token endpoint ${server.url}, HTTP 400); get a new refresh token with \`flux connect\` and update the secret`;
    expect(out.stdout + out.stderr).toContain(message);
    const finished = logs().records.find((r) => r.type === 'step.finished' && r.step === 'first');
    expect(finished).toMatchObject({ status: 'failed', error: { message } });
    expect(server.apiCalls).toEqual([]);
    expect(logs().text).not.toContain('rt-revoked-by-the-user');
  });

  it('a dry run names the grant and fetches nothing', async () => {
    const out = await runFlux(['run', workflow(), '--dry-run', '--log-dir', join(dir, 'logs')], { cwd: dir, env: { BOOKS_REFRESH: 'rt-anything' } });
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('authorization: Bearer <token from OAuth2 refresh token>');
    expect(server.tokenRequests).toEqual([]);
  });
});
