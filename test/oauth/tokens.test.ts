// Connection tokens against a real local authorization server and API: the refresh-token
// grant, expiry, one refresh on 401, one request shared by concurrent calls, token endpoint
// errors, a rotated refresh token, and masking. The token cache's clock is the server's.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHttp } from '../../src/connectors/http.js';
import type { CallContext, ConnectorRuntime, OAuth2Config } from '../../src/connectors/runtime.js';
import type { ConnectorSpec } from '../../src/connectors/spec.js';
import { createVendorRuntime } from '../../src/connectors/vendor-runtime.js';
import { connectorSpecs } from '../../src/connectors/index.js';
import { Masker } from '../../src/secrets/masker.js';
import { startAuthServer, type AuthServer } from './auth-server.js';

let server: AuthServer;
let http: ConnectorRuntime;
let masker: Masker;
let warnings: string[];

beforeEach(async () => {
  server = await startAuthServer();
  http = await createHttp({ userAgent: 'flux-test', now: () => server.now });
  masker = new Masker();
  warnings = [];
});
afterEach(async () => {
  await http.close?.();
  await server.close();
});

const context = (m = masker): CallContext => ({ signal: new AbortController().signal, idempotencyKey: 'RUN1:a', masker: m, dryRun: false, warn: (w) => warnings.push(w) });

function call(oauth2: OAuth2Config, path = '/api/me', m = masker) {
  return http.call({ operation: 'request', params: { path }, connection: { base_url: server.url, auth: { oauth2 } } }, context(m));
}

const refreshAuth = (refresh_token: string): OAuth2Config => ({ grant: 'refresh_token', token_url: `${server.url}/token`, client_id: 'flux-cli', refresh_token });
const grants = () => server.tokenRequests.map((r) => r.form.grant_type);

describe('refresh-token grant', () => {
  it('fetches an access token with the refresh token and reuses it until shortly before it expires', async () => {
    const refresh = server.grantRefreshToken('flux-cli');
    expect((await call(refreshAuth(refresh))).ok).toBe(true);
    expect(server.tokenRequests).toEqual([{ form: { grant_type: 'refresh_token', client_id: 'flux-cli', refresh_token: refresh } }]);
    server.now += 3000_000;
    expect((await call(refreshAuth(refresh))).ok).toBe(true);
    expect(grants()).toHaveLength(1);
    // 3600 s tokens are replaced 30 s early: at 3575 s a new one is fetched before the call.
    server.now += 575_000;
    expect((await call(refreshAuth(refresh))).ok).toBe(true);
    expect(grants()).toEqual(['refresh_token', 'refresh_token']);
    expect(server.apiCalls.map((c) => c.status)).toEqual([200, 200, 200]);
    const [first, , third] = server.apiCalls;
    expect(third?.authorization).not.toBe(first?.authorization);
  });

  it('sends the client secret of a confidential client', async () => {
    const refresh = server.grantRefreshToken('flux-app');
    const outcome = await call({ ...refreshAuth(refresh), client_id: 'flux-app', client_secret: 'app-secret-value', scope: 'read' });
    expect(outcome.ok).toBe(true);
    expect(server.tokenRequests[0]?.form).toEqual({ grant_type: 'refresh_token', client_id: 'flux-app', client_secret: 'app-secret-value', refresh_token: refresh, scope: 'read' });
  });

  it('on a 401, fetches a new token once and retries the call once', async () => {
    const refresh = server.grantRefreshToken('flux-cli');
    await call(refreshAuth(refresh));
    const used = server.apiCalls[0]!.authorization!.slice('Bearer '.length);
    server.revokeAccess(used);
    const outcome = await call(refreshAuth(refresh));
    expect(outcome.ok).toBe(true);
    expect(server.apiCalls.map((c) => c.status)).toEqual([200, 401, 200]);
    expect(grants()).toEqual(['refresh_token', 'refresh_token']);
  });

  it('a second 401, with a fresh token, fails the call saying so', async () => {
    const refresh = server.grantRefreshToken('flux-cli');
    server.expiresIn = 0; // every token the server issues is already dead for its API
    const outcome = await call(refreshAuth(refresh));
    expect(outcome.ok).toBe(false);
    expect(outcome.status).toBe(401);
    expect(outcome.error?.message).toMatch(/^HTTP 401: .*refused again with a freshly fetched OAuth2 access token/);
    expect(outcome.error?.retryable).toBe(false);
    expect(server.apiCalls.map((c) => c.status)).toEqual([401, 401]);
    expect(grants()).toEqual(['refresh_token', 'refresh_token']);
  });

  it('concurrent calls share one token request, and one refresh after they all get 401', async () => {
    const refresh = server.grantRefreshToken('flux-cli');
    server.tokenDelayMs = 150;
    const outcomes = await Promise.all(Array.from({ length: 12 }, (_, i) => call(refreshAuth(refresh), `/api/item/${i}`)));
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(grants()).toEqual(['refresh_token']);
    // The token is revoked under all of them: each gets 401, and one refresh serves them all.
    server.revokeAccess(server.apiCalls[0]!.authorization!.slice('Bearer '.length));
    const again = await Promise.all(Array.from({ length: 12 }, (_, i) => call(refreshAuth(refresh), `/api/item/${i}`)));
    expect(again.every((o) => o.ok)).toBe(true);
    expect(grants()).toEqual(['refresh_token', 'refresh_token']);
  });

  it('a caller that gives up does not fail the others waiting for the same token', async () => {
    const refresh = server.grantRefreshToken('flux-cli');
    server.tokenDelayMs = 300;
    const impatient = http.call({ operation: 'request', params: { path: '/api/a' }, connection: { base_url: server.url, auth: { oauth2: refreshAuth(refresh) } } }, { ...context(), timeoutMs: 50 });
    const patient = call(refreshAuth(refresh), '/api/b');
    const [first, second] = await Promise.all([impatient, patient]);
    expect(first.ok).toBe(false);
    expect(first.error?.message).toBe(`request to ${server.url} timed out after 50ms`);
    expect(second.ok).toBe(true);
    expect(grants()).toEqual(['refresh_token']);
  });

  it('the rotation warning goes to a call that got the token, not to one that gave up', async () => {
    server.rotate = true;
    const refresh = server.grantRefreshToken('flux-cli');
    server.tokenDelayMs = 300;
    const gaveUp: string[] = [];
    const connection = { base_url: server.url, auth: { oauth2: refreshAuth(refresh) } };
    const impatient = http.call({ operation: 'request', params: { path: '/api/a' }, connection }, { ...context(), timeoutMs: 50, warn: (w) => gaveUp.push(w) });
    const patient = call(refreshAuth(refresh), '/api/b');
    const [first, second] = await Promise.all([impatient, patient]);
    expect([first.ok, second.ok]).toEqual([false, true]);
    expect(gaveUp).toEqual([]);
    expect(warnings).toHaveLength(1);
  });

  it('turns a refused grant into one readable message, not retryable, and calls nothing', async () => {
    const outcome = await call(refreshAuth('rt-revoked-long-ago'));
    expect(outcome.ok).toBe(false);
    expect(outcome.error).toEqual({ message: `OAuth2: invalid_grant: Token has been expired or revoked. (token endpoint ${server.url}, HTTP 400); get a new refresh token with \`flux connect\` and update the secret`, retryable: false, status: 400 });
    expect(server.apiCalls).toEqual([]);
  });

  it('says what an oauth2 block lacks for its grant', async () => {
    const noRefresh = await call({ grant: 'refresh_token', token_url: `${server.url}/token`, client_id: 'flux-cli' });
    expect(noRefresh.error?.message).toBe('OAuth2: the refresh_token grant needs `refresh_token` (get one with `flux connect`)');
    const noSecret = await call({ token_url: `${server.url}/token`, client_id: 'flux-app' });
    expect(noSecret.error?.message).toBe('OAuth2: the client_credentials grant needs `client_secret`');
    expect(server.tokenRequests).toEqual([]);
  });

  it('warns, once and without the tokens, when the endpoint rotates the refresh token, and uses the new one', async () => {
    server.rotate = true;
    const refresh = server.grantRefreshToken('flux-cli');
    expect((await call(refreshAuth(refresh))).ok).toBe(true);
    const rotated = [...server.refreshTokens.keys()];
    expect(rotated).toHaveLength(1);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`the token endpoint ${server.url} issued a new refresh token for client \`flux-cli\``);
    expect(warnings[0]).toContain('run `flux connect` again');
    for (const t of server.issued) expect(warnings[0]).not.toContain(t);
    // The old refresh token is dead at the server: the next refresh only works with the new one.
    server.now += 3600_000;
    expect((await call(refreshAuth(refresh))).ok).toBe(true);
    expect(server.tokenRequests[1]?.form.refresh_token).toBe(rotated[0]);
    expect(warnings).toHaveLength(2);
  });

  it('every token it handles is masked, in every run that uses the cached token', async () => {
    server.rotate = true;
    const refresh = server.grantRefreshToken('flux-cli');
    await call(refreshAuth(refresh));
    const another = new Masker(); // a second run in the same process (a daemon) gets the cached token
    await call(refreshAuth(refresh), '/api/me', another);
    expect(server.tokenRequests).toHaveLength(1);
    const issued = server.issued;
    expect(issued.length).toBe(3); // the first refresh token, an access token, the rotated refresh token
    for (const t of issued) {
      expect(masker.mask(`x ${t} y`)).toBe('x *** y');
      expect(another.mask(`x ${t} y`)).toBe('x *** y');
    }
  });
});

describe('client credentials (the default grant)', () => {
  it('still fetches with client_id and client_secret and caches the token', async () => {
    const auth: OAuth2Config = { token_url: `${server.url}/token`, client_id: 'flux-app', client_secret: 'app-secret-value', audience: 'api' };
    expect((await call(auth)).ok).toBe(true);
    expect((await call(auth)).ok).toBe(true);
    expect(server.tokenRequests).toEqual([{ form: { grant_type: 'client_credentials', client_id: 'flux-app', client_secret: 'app-secret-value', audience: 'api' } }]);
  });

  it('client_auth: basic sends the credentials in a Basic header and not in the form (PayPal)', async () => {
    const auth: OAuth2Config = { token_url: `${server.url}/token`, client_id: 'flux-app', client_secret: 'app-secret-value', client_auth: 'basic' };
    expect((await call(auth)).ok).toBe(true);
    expect(server.tokenRequests).toEqual([{ form: { grant_type: 'client_credentials' }, authorization: `Basic ${Buffer.from('flux-app:app-secret-value').toString('base64')}` }]);
    // A wrong secret in the header is refused as in the form.
    const refused = await call({ ...auth, client_id: 'flux-app', client_secret: 'wrong-secret' });
    expect(refused.error?.message).toContain('OAuth2: invalid_client');
    expect(refused.error?.message).not.toContain('wrong-secret');
  });

  it('a wrong secret reads as the endpoint says', async () => {
    const outcome = await call({ token_url: `${server.url}/token`, client_id: 'flux-app', client_secret: 'wrong-secret' });
    expect(outcome.error?.message).toBe(`OAuth2: invalid_client: Client authentication failed. (token endpoint ${server.url}, HTTP 401)`);
  });
});

describe('named connectors', () => {
  it("an oauth2 block without token_url uses the token endpoint of the connector's spec", async () => {
    const spec: ConnectorSpec = {
      name: 'books', summary: 'A test vendor.', baseUrl: server.url, auth: ['oauth2'],
      oauth: { authorizeUrl: `${server.url}/authorize`, tokenUrl: `${server.url}/token`, scopes: ['read'] },
      operations: { me: { summary: 'Who am I.', fields: {}, output: 'The user.', http: { method: 'GET', path: '/api/me' } } },
    };
    const vendor = createVendorRuntime(spec, http);
    const refresh = server.grantRefreshToken('flux-cli');
    const outcome = await vendor.call({ operation: 'me', params: {}, connection: { base_url: server.url, auth: { oauth2: { grant: 'refresh_token', client_id: 'flux-cli', refresh_token: refresh } } } }, context());
    expect(outcome.ok).toBe(true);
    expect(outcome.output).toEqual({ ok: true, path: '/api/me' });
    expect(grants()).toEqual(['refresh_token']);
  });

  it("a connector whose vendor needs Basic client auth (paypal_invoicing) uses it without being told", async () => {
    const spec = connectorSpecs.paypal_invoicing!;
    expect(spec.oauth?.clientAuth).toBe('basic');
    const vendor = createVendorRuntime({ ...spec, oauth: { ...spec.oauth!, tokenUrl: `${server.url}/token` } }, http);
    const outcome = await vendor.call({ operation: 'request', params: { path: '/api/me' }, connection: { base_url: server.url, auth: { oauth2: { client_id: 'flux-app', client_secret: 'app-secret-value' } } } }, context());
    expect(outcome.ok).toBe(true);
    expect(server.tokenRequests.map((r) => [r.form, r.authorization])).toEqual([[{ grant_type: 'client_credentials' }, `Basic ${Buffer.from('flux-app:app-secret-value').toString('base64')}`]]);
  });
});
