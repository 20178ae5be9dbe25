// The webhook request layer: one request in, accept / reply / refuse out. Every signature here
// is made the way its provider documents it, with node:crypto in this file, never with flux's
// own code; GitHub's and Slack's published example values are checked as they are printed.
// Rows assert the status and the refusal code, not the wording; a few assert what a reason
// must say (the header, the age) or must never say (the secret, the expected signature).
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createWebhookHandler } from '../../src/triggers/webhook-request.js';
import type { WebhookConfig, WebhookHandler, WebhookOutcome, WebhookRequestOptions } from '../../src/triggers/webhook-request.js';
import type { SignatureConfig } from '../../src/triggers/webhook-signature.js';
import { locateJsonError } from '../../src/triggers/json-syntax.js';

const SECRET = 'whsec_5WbX5kEWLlfzsGNjH64I8lOOqUB6e8FH';
const NOW = Date.UTC(2026, 10, 24, 8, 0, 0);
const T = Math.floor(NOW / 1000);
const MIB = 1024 * 1024;
const BODY = Buffer.from('{"id":"evt_1","type":"invoice.paid","amount":4200}');
const JSON_TYPE = { 'content-type': 'application/json' };

type Headers = Record<string, string>;

function hmacHex(key: string, ...parts: (string | Buffer)[]): string {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

// GitHub, "Validating webhook deliveries": X-Hub-Signature-256 is `sha256=` and the hex
// HMAC-SHA256 of the payload, keyed with the webhook secret.
function github(body: Buffer, secret = SECRET): Headers {
  return { 'x-hub-signature-256': `sha256=${hmacHex(secret, body)}` };
}

// Stripe, "Verify webhook signatures manually": signed_payload is the timestamp, `.`, and the
// raw payload; the expected v1 is its HMAC-SHA256 in hex, keyed with the endpoint secret.
function stripeV1(body: Buffer, t: number, secret = SECRET): string {
  return hmacHex(secret, `${t}.`, body);
}
function stripe(body: Buffer, t = T, secret = SECRET): Headers {
  return { 'stripe-signature': `t=${t},v1=${stripeV1(body, t, secret)}` };
}

// Slack, "Verifying requests from Slack": the basestring is `v0:`, the X-Slack-Request-Timestamp,
// `:`, and the raw body; X-Slack-Signature is `v0=` and its hex HMAC-SHA256 keyed with the signing secret.
function slack(body: Buffer, ts = T, secret = SECRET): Headers {
  return { 'x-slack-request-timestamp': String(ts), 'x-slack-signature': `v0=${hmacHex(secret, `v0:${ts}:`, body)}` };
}

function hmacPlain(body: Buffer, encoding: 'hex' | 'base64' = 'hex', header = 'x-signature', secret = SECRET): Headers {
  return { [header]: createHmac('sha256', secret).update(body).digest(encoding) };
}

function handler(signature?: SignatureConfig, options?: WebhookRequestOptions, extra: Partial<WebhookConfig> = {}): WebhookHandler {
  const setup = createWebhookHandler({ path: '/hooks/test', ...(signature ? { signature } : {}), ...extra }, options);
  if (!setup.ok) throw new Error(setup.message);
  return setup.handle;
}

function send(h: WebhookHandler, body: Buffer, headers: Headers, now = NOW, method = 'POST'): WebhookOutcome {
  return h({ method, headers: { ...JSON_TYPE, ...headers }, body, now });
}

function flipByte(buf: Buffer, index: number, xor = 0x01): Buffer {
  const copy = Buffer.from(buf);
  copy[index] = copy[index]! ^ xor;
  return copy;
}

const TAMPERED = flipByte(BODY, 10);
const FIVE_MIN = 300;

describe('signatures', () => {
  const schemes: Record<string, SignatureConfig> = {
    github: { scheme: 'github', secret: SECRET },
    stripe: { scheme: 'stripe', secret: SECRET },
    slack: { scheme: 'slack', secret: SECRET },
    hmac: { scheme: 'hmac-sha256', secret: SECRET },
    hmacBase64: { scheme: 'hmac-sha256', secret: SECRET, encoding: 'base64' },
    hmacHeader: { scheme: 'hmac-sha256', secret: SECRET, header: 'X-Shop-Hmac-Sha256', encoding: 'base64' },
    stripe10m: { scheme: 'stripe', secret: SECRET, tolerance: '10m' },
  };

  // [name, scheme, body sent, headers sent, now, expected: 'accept' or a refusal code]
  const rows: [string, string, Buffer, Headers, number, string][] = [
    // github
    ['github: valid', 'github', BODY, github(BODY), NOW, 'accept'],
    ['github: wrong secret', 'github', BODY, github(BODY, 'not-the-secret'), NOW, 'signature-mismatch'],
    ['github: body changed in one byte', 'github', TAMPERED, github(BODY), NOW, 'signature-mismatch'],
    ['github: no header', 'github', BODY, {}, NOW, 'missing-signature'],
    ['github: only the legacy sha1 header', 'github', BODY, { 'x-hub-signature': 'sha1=0123' }, NOW, 'missing-signature'],
    ['github: no sha256= prefix', 'github', BODY, { 'x-hub-signature-256': hmacHex(SECRET, BODY) }, NOW, 'malformed-signature'],
    ['github: not hex', 'github', BODY, { 'x-hub-signature-256': 'sha256=zz' }, NOW, 'malformed-signature'],
    ['github: empty after the prefix', 'github', BODY, { 'x-hub-signature-256': 'sha256=' }, NOW, 'malformed-signature'],
    ['github: a shorter signature', 'github', BODY, { 'x-hub-signature-256': `sha256=${hmacHex(SECRET, BODY).slice(0, 63)}` }, NOW, 'signature-mismatch'],
    ['github: a longer signature', 'github', BODY, { 'x-hub-signature-256': `sha256=${hmacHex(SECRET, BODY)}00` }, NOW, 'signature-mismatch'],
    ['github: the signature twice over', 'github', BODY, { 'x-hub-signature-256': `sha256=${hmacHex(SECRET, BODY).repeat(2)}` }, NOW, 'signature-mismatch'],
    ['github: uppercase hex', 'github', BODY, { 'x-hub-signature-256': `sha256=${hmacHex(SECRET, BODY).toUpperCase()}` }, NOW, 'malformed-signature'],
    // stripe
    ['stripe: valid', 'stripe', BODY, stripe(BODY), NOW, 'accept'],
    ['stripe: wrong secret', 'stripe', BODY, stripe(BODY, T, 'whsec_other'), NOW, 'signature-mismatch'],
    ['stripe: body changed in one byte', 'stripe', TAMPERED, stripe(BODY), NOW, 'signature-mismatch'],
    ['stripe: no header', 'stripe', BODY, {}, NOW, 'missing-signature'],
    ['stripe: several v1, the second matching', 'stripe', BODY, { 'stripe-signature': `t=${T},v1=${stripeV1(BODY, T, 'whsec_old')},v1=${stripeV1(BODY, T)}` }, NOW, 'accept'],
    ['stripe: several v1, none matching', 'stripe', BODY, { 'stripe-signature': `t=${T},v1=${stripeV1(BODY, T, 'a')},v1=${stripeV1(BODY, T, 'b')}` }, NOW, 'signature-mismatch'],
    ['stripe: v0 ignored beside a valid v1', 'stripe', BODY, { 'stripe-signature': `t=${T},v1=${stripeV1(BODY, T)},v0=${'0'.repeat(64)}` }, NOW, 'accept'],
    ['stripe: a valid signature under v0 only', 'stripe', BODY, { 'stripe-signature': `t=${T},v0=${stripeV1(BODY, T)}` }, NOW, 'malformed-signature'],
    ['stripe: no timestamp', 'stripe', BODY, { 'stripe-signature': `v1=${stripeV1(BODY, T)}` }, NOW, 'malformed-signature'],
    ['stripe: two timestamps', 'stripe', BODY, { 'stripe-signature': `t=${T},t=${T},v1=${stripeV1(BODY, T)}` }, NOW, 'malformed-signature'],
    ['stripe: timestamp not a number', 'stripe', BODY, { 'stripe-signature': `t=soon,v1=${stripeV1(BODY, T)}` }, NOW, 'malformed-signature'],
    ['stripe: garbage', 'stripe', BODY, { 'stripe-signature': 'garbage' }, NOW, 'malformed-signature'],
    ['stripe: timestamp signed, another one sent', 'stripe', BODY, { 'stripe-signature': `t=${T + 1},v1=${stripeV1(BODY, T)}` }, NOW, 'signature-mismatch'],
    ['stripe: exactly the tolerance old', 'stripe', BODY, stripe(BODY, T - FIVE_MIN), NOW, 'accept'],
    ['stripe: tolerance + 1 s old', 'stripe', BODY, stripe(BODY, T - FIVE_MIN - 1), NOW, 'stale-signature'],
    ['stripe: exactly the tolerance ahead', 'stripe', BODY, stripe(BODY, T + FIVE_MIN), NOW, 'accept'],
    ['stripe: tolerance + 1 s ahead', 'stripe', BODY, stripe(BODY, T + FIVE_MIN + 1), NOW, 'stale-signature'],
    ['stripe: 10m tolerance, 9m old', 'stripe10m', BODY, stripe(BODY, T - 540), NOW, 'accept'],
    ['stripe: 10m tolerance, 10m + 1 s old', 'stripe10m', BODY, stripe(BODY, T - 601), NOW, 'stale-signature'],
    // slack
    ['slack: valid', 'slack', BODY, slack(BODY), NOW, 'accept'],
    ['slack: wrong secret', 'slack', BODY, slack(BODY, T, 'other'), NOW, 'signature-mismatch'],
    ['slack: body changed in one byte', 'slack', TAMPERED, slack(BODY), NOW, 'signature-mismatch'],
    ['slack: no signature header', 'slack', BODY, { 'x-slack-request-timestamp': String(T) }, NOW, 'missing-signature'],
    ['slack: no timestamp header', 'slack', BODY, { 'x-slack-signature': slack(BODY)['x-slack-signature']! }, NOW, 'missing-signature'],
    ['slack: no v0= prefix', 'slack', BODY, { ...slack(BODY), 'x-slack-signature': hmacHex(SECRET, `v0:${T}:`, BODY) }, NOW, 'malformed-signature'],
    ['slack: timestamp not a number', 'slack', BODY, { ...slack(BODY), 'x-slack-request-timestamp': 'now' }, NOW, 'malformed-signature'],
    ['slack: timestamp changed after signing', 'slack', BODY, { ...slack(BODY), 'x-slack-request-timestamp': String(T - 1) }, NOW, 'signature-mismatch'],
    ['slack: exactly the tolerance old', 'slack', BODY, slack(BODY, T - FIVE_MIN), NOW, 'accept'],
    ['slack: tolerance + 1 s old', 'slack', BODY, slack(BODY, T - FIVE_MIN - 1), NOW, 'stale-signature'],
    ['slack: exactly the tolerance ahead', 'slack', BODY, slack(BODY, T + FIVE_MIN), NOW, 'accept'],
    ['slack: tolerance + 1 s ahead', 'slack', BODY, slack(BODY, T + FIVE_MIN + 1), NOW, 'stale-signature'],
    // hmac-sha256
    ['hmac: valid hex', 'hmac', BODY, hmacPlain(BODY), NOW, 'accept'],
    ['hmac: valid hex after sha256=', 'hmac', BODY, { 'x-signature': `sha256=${hmacHex(SECRET, BODY)}` }, NOW, 'accept'],
    ['hmac: wrong secret', 'hmac', BODY, hmacPlain(BODY, 'hex', 'x-signature', 'nope'), NOW, 'signature-mismatch'],
    ['hmac: body changed in one byte', 'hmac', TAMPERED, hmacPlain(BODY), NOW, 'signature-mismatch'],
    ['hmac: no header', 'hmac', BODY, {}, NOW, 'missing-signature'],
    ['hmac: base64 sent, hex expected', 'hmac', BODY, hmacPlain(BODY, 'base64'), NOW, 'malformed-signature'],
    ['hmac: a different-length signature', 'hmac', BODY, { 'x-signature': 'ab' }, NOW, 'signature-mismatch'],
    ['hmac base64: valid', 'hmacBase64', BODY, hmacPlain(BODY, 'base64'), NOW, 'accept'],
    ['hmac base64: valid after sha256=', 'hmacBase64', BODY, { 'x-signature': `sha256=${hmacPlain(BODY, 'base64')['x-signature']}` }, NOW, 'accept'],
    ['hmac base64: hex sent', 'hmacBase64', BODY, hmacPlain(BODY, 'hex'), NOW, 'signature-mismatch'],
    ['hmac base64: unpadded', 'hmacBase64', BODY, { 'x-signature': hmacPlain(BODY, 'base64')['x-signature']!.replace(/=+$/, '') }, NOW, 'signature-mismatch'],
    ['hmac base64: url-safe alphabet', 'hmacBase64', BODY, { 'x-signature': createHmac('sha256', SECRET).update(BODY).digest('base64url') }, NOW, 'signature-mismatch'],
    ['hmac base64: wrong secret', 'hmacBase64', BODY, hmacPlain(BODY, 'base64', 'x-signature', 'nope'), NOW, 'signature-mismatch'],
    ['hmac custom header: valid', 'hmacHeader', BODY, hmacPlain(BODY, 'base64', 'x-shop-hmac-sha256'), NOW, 'accept'],
    ['hmac custom header: sent in the default header', 'hmacHeader', BODY, hmacPlain(BODY, 'base64'), NOW, 'missing-signature'],
  ];

  it.each(rows)('%s', (_name, scheme, body, headers, now, expected) => {
    const outcome = send(handler(schemes[scheme]), body, headers, now);
    if (expected === 'accept') {
      expect(outcome).toEqual({ kind: 'accept', event: JSON.parse(body.toString()), receivedAt: now });
      return;
    }
    expect(outcome).toMatchObject({ kind: 'refuse', status: 401, code: expected });
    if (outcome.kind !== 'refuse') return;
    expect(outcome.reason).not.toContain(SECRET);
    // No signature the request should have carried appears in the reason, in any encoding.
    for (const s of [hmacHex(SECRET, body), stripeV1(body, T), hmacHex(SECRET, `v0:${T}:`, body), createHmac('sha256', SECRET).update(body).digest('base64')]) {
      expect(outcome.reason).not.toContain(s);
    }
  });

  it('matches the example in GitHub\'s documentation', () => {
    const body = Buffer.from('Hello, World!');
    const headers = { 'content-type': 'text/plain', 'x-hub-signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17' };
    expect(send(handler({ scheme: 'github', secret: "It's a Secret to Everybody" }), body, headers)).toEqual({ kind: 'accept', event: { body: 'Hello, World!' }, receivedAt: NOW });
  });

  it('matches the example in Slack\'s documentation, a form-encoded slash command', () => {
    const body = Buffer.from(
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
    );
    const headers = {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': '1531420618',
      'x-slack-signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    };
    const h = handler({ scheme: 'slack', secret: '8f742231b10e8888abcd99yyyzzz85a5' });
    const outcome = send(h, body, headers, 1531420618_000 + 30_000);
    expect(outcome.kind).toBe('accept');
    expect(outcome.kind === 'accept' && outcome.event).toMatchObject({ command: '/webhook-collect', text: '', user_name: 'roadrunner' });
    // The same delivery a day later is a replay.
    expect(send(h, body, headers, 1531420618_000 + 86_400_000)).toMatchObject({ status: 401, code: 'stale-signature' });
  });

  it('says how old or how far ahead a stale timestamp is, and the tolerance', () => {
    const old = send(handler(schemes.stripe), BODY, stripe(BODY, T - 301));
    expect(old.kind === 'refuse' && old.reason).toMatch(/301 s old.*300 s/);
    const ahead = send(handler(schemes.slack), BODY, slack(BODY, T + 3600));
    expect(ahead.kind === 'refuse' && ahead.reason).toMatch(/3600 s in the future/);
  });

  it('names the header that is missing', () => {
    const outcome = send(handler(schemes.hmacHeader), BODY, {});
    expect(outcome.kind === 'refuse' && outcome.reason).toContain('X-Shop-Hmac-Sha256');
  });

  it('refuses a signature header sent more than once', () => {
    const h = handler(schemes.github);
    const value = github(BODY)['x-hub-signature-256']!;
    expect(h({ method: 'POST', headers: { ...JSON_TYPE, 'x-hub-signature-256': [value, value] }, body: BODY, now: NOW })).toMatchObject({ status: 401, code: 'malformed-signature' });
  });

  it('reads headers by own name only: a header object with a prototype carrying the signature is unsigned', () => {
    const headers = Object.create({ 'x-hub-signature-256': github(BODY)['x-hub-signature-256'] }) as Headers;
    headers['content-type'] = 'application/json';
    expect(handler(schemes.github)({ method: 'POST', headers, body: BODY, now: NOW })).toMatchObject({ status: 401, code: 'missing-signature' });
  });

  it('checks the signature before reading the body: an unsigned malformed body is 401, not 400', () => {
    expect(send(handler(schemes.github), Buffer.from('{not json'), {})).toMatchObject({ status: 401, code: 'missing-signature' });
  });

  it('refuses configs that could not serve a delivery, once, when the handler is made', () => {
    const bad: [SignatureConfig, RegExp][] = [
      [{ scheme: 'github', secret: '' }, /secret is empty/],
      [{ scheme: 'stripe', secret: SECRET, tolerance: '5 minutes' }, /tolerance/],
      [{ scheme: 'hmac-sha256', secret: SECRET, header: 'X Signature' }, /header/],
    ];
    for (const [signature, message] of bad) {
      const setup = createWebhookHandler({ path: '/h', signature });
      expect(setup.ok).toBe(false);
      expect(!setup.ok && setup.message).toMatch(message);
    }
    for (const maxBodyBytes of [0, -1, 1.5, 2 * MIB]) expect(createWebhookHandler({ path: '/h' }, { maxBodyBytes }).ok).toBe(false);
  });
});

describe('methods', () => {
  it.each([
    ['POST', undefined, 'accept'],
    ['post', undefined, 'accept'],
    ['GET', undefined, 405],
    ['PUT', 'PUT', 'accept'],
    ['POST', 'PUT', 405],
    ['GET', 'GET', 'accept'],
  ] as const)('%s to a webhook taking %s', (method, configured, expected) => {
    const h = handler(undefined, undefined, configured ? { method: configured } : {});
    const outcome = send(h, BODY, {}, NOW, method);
    if (expected === 'accept') expect(outcome.kind).toBe('accept');
    else expect(outcome).toMatchObject({ kind: 'refuse', status: 405, code: 'method-not-allowed', headers: { allow: configured ?? 'POST' } });
  });
});

describe('bodies', () => {
  const unsigned = handler();
  const post = (body: string | Buffer, contentType?: string, h = unsigned) =>
    h({ method: 'POST', headers: contentType === undefined ? {} : { 'content-type': contentType }, body: Buffer.from(body), now: NOW });

  /** A JSON body of exactly `size` bytes: one string property, then a newline. */
  const jsonOfSize = (size: number) => {
    const frame = '{"a":""}\n';
    return Buffer.from(`{"a":"${'x'.repeat(size - frame.length)}"}\n`);
  };

  it('accepts a body of exactly 1 MiB and refuses 1 MiB + 1 byte with 413', () => {
    const exact = jsonOfSize(MIB);
    expect(exact.length).toBe(MIB);
    expect(post(exact, 'application/json').kind).toBe('accept');
    const over = jsonOfSize(MIB + 1);
    expect(post(over, 'application/json')).toMatchObject({ kind: 'refuse', status: 413, code: 'body-too-large' });
  });

  it('checks the size before the signature, so an oversized body is never hashed', () => {
    const h = handler({ scheme: 'github', secret: SECRET });
    const over = jsonOfSize(MIB + 1);
    expect(send(h, over, github(over))).toMatchObject({ status: 413, code: 'body-too-large' });
  });

  it('takes a lower body limit from the daemon', () => {
    const h = handler(undefined, { maxBodyBytes: 100 });
    expect(post(jsonOfSize(100), 'application/json', h).kind).toBe('accept');
    const refused = post(jsonOfSize(101), 'application/json', h);
    expect(refused).toMatchObject({ status: 413, code: 'body-too-large' });
    expect(refused.kind === 'refuse' && refused.reason).toContain('100 bytes');
  });

  it.each([
    ['a missing value', '{"a":}', { position: 5, line: 1, column: 6 }],
    ['a trailing comma', '{"a":1,}', { position: 7, line: 1, column: 8 }],
    ['a missing colon, third line', '{\n  "a": 1,\n  "b" 2\n}', { position: 18, line: 3, column: 7 }],
    ['a cut-off literal', '{"a":tru}', { position: 8, line: 1, column: 9 }],
    ['an unterminated string', '{"a":"x', { position: 7, line: 1, column: 8 }],
    ['a bad escape', '{"a":"\\x"}', { position: 7, line: 1, column: 8 }],
    ['a raw control character', '{"a":"\u0001"}', { position: 6, line: 1, column: 7 }],
    ['text after the value', '{"a":1} x', { position: 8, line: 1, column: 9 }],
    ['a leading zero', '{"a":01}', { position: 6, line: 1, column: 7 }],
    ['single quotes', "{'a':1}", { position: 1, line: 1, column: 2 }],
    ['only whitespace', '  \n', { position: 3, line: 2, column: 1 }],
  ])('malformed JSON, %s: 400 with its position', (_name, text, at) => {
    const outcome = post(text, 'application/json');
    expect(outcome).toMatchObject({ kind: 'refuse', status: 400, code: 'malformed-body', at });
    expect(outcome.kind === 'refuse' && outcome.reason).toContain(`line ${at.line}, column ${at.column}`);
  });

  it('escapes what it quotes from a malformed body', () => {
    const outcome = post('{"a":\u001b[2J}', 'application/json');
    expect(outcome.kind === 'refuse' && outcome.reason).not.toMatch(/\u001b/);
  });

  it('reads a form, repeated keys as lists in order', () => {
    const outcome = post('a=1&b=2&a=3&c=&d=x+y%21&a=4', 'application/x-www-form-urlencoded');
    expect(outcome).toEqual({ kind: 'accept', event: { a: ['1', '3', '4'], b: '2', c: '', d: 'x y!' }, receivedAt: NOW });
  });

  it.each([
    ['json', '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"toString":1}', 'application/json'],
    ['form', '__proto__=x&__proto__=y&constructor=z&hasOwnProperty=w', 'application/x-www-form-urlencoded'],
  ])('keeps __proto__ keys as data (%s) and leaves Object.prototype alone', (_kind, body, type) => {
    const outcome = post(body, type);
    expect(outcome.kind).toBe('accept');
    if (outcome.kind !== 'accept') return;
    expect(Object.hasOwn(outcome.event, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(outcome.event)).toBe(Object.prototype);
    expect(Object.keys(outcome.event)).toContain('constructor');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('x');
  });

  it('accepts 64 levels of nesting and refuses 65 with 422', () => {
    const nest = (n: number) => `${'{"a":'.repeat(n - 1)}{}${'}'.repeat(n - 1)}`;
    expect(post(nest(64), 'application/json').kind).toBe('accept');
    expect(post(nest(65), 'application/json')).toMatchObject({ status: 422, code: 'event-too-deep' });
  });

  it('refuses a body nested 200,000 levels deep without throwing', () => {
    const deep = `{"a":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
    expect(post(deep, 'application/json')).toMatchObject({ status: 422, code: 'event-too-deep' });
  });

  it('names depth when an event is both too deep and too large, even where the size is met first', () => {
    // 100,000 × `1e9`: 400 kB of body, 1.1 MB as the engine measures the numbers; the walk meets
    // them before the deep part (listed first, walked last).
    const deep = `${'{"a":'.repeat(64)}{}${'}'.repeat(64)}`;
    const body = `{"deep":${deep},"n":[${Array.from({ length: 100_000 }, () => '1e9').join(',')}]}`;
    expect(body.length).toBeLessThan(MIB);
    expect(post(body, 'application/json')).toMatchObject({ status: 422, code: 'event-too-deep', reason: 'the body nests deeper than 64 levels' });
    expect(post(`{"n":[${Array.from({ length: 100_000 }, () => '1e9').join(',')}]}`, 'application/json')).toMatchObject({ status: 413, code: 'event-too-large' });
  });

  it('refuses with 413 a body within the limit whose event the engine would refuse as too large', () => {
    // 262,144 repeats of one form key: under 1 MiB as a form, over it as the engine measures the list.
    const form = `${'a=1&'.repeat(MIB / 4 - 1)}a=1`;
    expect(form.length).toBeLessThan(MIB);
    expect(post(form, 'application/x-www-form-urlencoded')).toMatchObject({ status: 413, code: 'event-too-large' });
  });

  it.each([
    ['a list', '[1,2]'],
    ['a string', '"hi"'],
    ['a number', '42'],
    ['null', 'null'],
  ])('refuses %s at the top with 422', (_name, body) => {
    expect(post(body, 'application/json')).toMatchObject({ status: 422, code: 'event-not-object' });
  });

  it.each([
    ['application/json', '{"a":1}', { a: 1 }],
    ['application/json; charset=UTF-8', '{"a":1}', { a: 1 }],
    ['Application/JSON', '{"a":1}', { a: 1 }],
    ['application/vnd.api+json', '{"a":1}', { a: 1 }],
    ['application/cloudevents+json; charset="utf-8"', '{"a":1}', { a: 1 }],
    ['application/x-www-form-urlencoded; charset=utf-8', 'a=1', { a: '1' }],
    ['text/plain', 'hello\nworld', { body: 'hello\nworld' }],
    ['text/xml', '<a/>', { body: '<a/>' }],
    [undefined, '', {}],
    ['application/octet-stream', '', {}],
  ])('content type %s: an event', (type, body, event) => {
    expect(post(body, type)).toEqual({ kind: 'accept', event, receivedAt: NOW });
  });

  it.each([
    ['application/octet-stream', 'abc'],
    ['multipart/form-data; boundary=x', '--x--'],
    ['application/xml', '<a/>'],
    ['application/json; charset=latin1', '{"a":1}'],
    [undefined, '{"a":1}'],
    ['', '{"a":1}'],
  ])('content type %s with a body: 415', (type, body) => {
    expect(post(body, type)).toMatchObject({ status: 415, code: 'unsupported-media-type' });
  });

  it('refuses a body that is not UTF-8 with 400', () => {
    expect(post(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), 'application/json')).toMatchObject({ status: 400, code: 'malformed-body' });
  });
});

describe('Slack URL verification', () => {
  const challenge = '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P';
  const body = Buffer.from(JSON.stringify({ token: 'Jhj5dZrVaK7ZwHHjRyZWjbDl', challenge, type: 'url_verification' }));

  it('answers a signed handshake with its challenge and starts nothing', () => {
    expect(send(handler({ scheme: 'slack', secret: SECRET }), body, slack(body))).toEqual({
      kind: 'reply',
      status: 200,
      body: challenge,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    });
  });

  it('refuses an unsigned or stale handshake', () => {
    const h = handler({ scheme: 'slack', secret: SECRET });
    expect(send(h, body, {})).toMatchObject({ status: 401, code: 'missing-signature' });
    expect(send(h, body, slack(body, T - 3600))).toMatchObject({ status: 401, code: 'stale-signature' });
  });

  it('is an ordinary event for other schemes', () => {
    expect(send(handler({ scheme: 'github', secret: SECRET }), body, github(body)).kind).toBe('accept');
    expect(send(handler(), body, {}).kind).toBe('accept');
  });
});

describe('properties', () => {
  const RUNS = { numRuns: 300 };
  type Scheme = 'stripe' | 'github' | 'slack' | 'hex' | 'base64';
  const schemeArb = fc.constantFrom<Scheme>('stripe', 'github', 'slack', 'hex', 'base64');
  const secretArb = fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }));
  const bodyArb = fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b));

  function configFor(scheme: Scheme, secret: string): SignatureConfig {
    if (scheme === 'hex') return { scheme: 'hmac-sha256', secret };
    if (scheme === 'base64') return { scheme: 'hmac-sha256', secret, encoding: 'base64' };
    return { scheme, secret };
  }

  /** The signed headers and the name and start of the signature text within them. */
  function sign(scheme: Scheme, body: Buffer, secret: string): { headers: Headers; name: string; from: number } {
    switch (scheme) {
      case 'stripe':
        return { headers: stripe(body, T, secret), name: 'stripe-signature', from: `t=${T},v1=`.length };
      case 'github':
        return { headers: github(body, secret), name: 'x-hub-signature-256', from: 'sha256='.length };
      case 'slack':
        return { headers: slack(body, T, secret), name: 'x-slack-signature', from: 'v0='.length };
      case 'hex':
        return { headers: hmacPlain(body, 'hex', 'x-signature', secret), name: 'x-signature', from: 0 };
      case 'base64':
        return { headers: hmacPlain(body, 'base64', 'x-signature', secret), name: 'x-signature', from: 0 };
    }
  }

  const deliver = (scheme: Scheme, secret: string, body: Buffer, headers: Headers) =>
    handler(configFor(scheme, secret))({ method: 'POST', headers: { 'content-type': 'text/plain', ...headers }, body, now: NOW });

  it('accepts any body correctly signed with any secret', () => {
    fc.assert(
      fc.property(schemeArb, secretArb, bodyArb, (scheme, secret, body) => {
        const outcome = deliver(scheme, secret, body, sign(scheme, body, secret).headers);
        // Past the signature, a body that is not UTF-8 text is the body's fault (400), never a 401.
        expect(outcome.kind === 'accept' || (outcome.kind === 'refuse' && outcome.code === 'malformed-body')).toBe(true);
        if (Buffer.from(body.toString('utf8'), 'utf8').equals(body)) expect(outcome.kind).toBe('accept');
      }),
      RUNS,
    );
  });

  it('refuses any single-byte change of the body', () => {
    fc.assert(
      fc.property(schemeArb, secretArb, bodyArb.filter((b) => b.length > 0), fc.nat(), fc.integer({ min: 1, max: 255 }), (scheme, secret, body, i, xor) => {
        const { headers } = sign(scheme, body, secret);
        const outcome = deliver(scheme, secret, flipByte(body, i % body.length, xor), headers);
        expect(outcome).toMatchObject({ kind: 'refuse', status: 401, code: 'signature-mismatch' });
      }),
      RUNS,
    );
  });

  it('refuses any single-byte change of the signature', () => {
    fc.assert(
      fc.property(schemeArb, secretArb, bodyArb, fc.nat(), fc.integer({ min: 0, max: 255 }), (scheme, secret, body, i, byte) => {
        const { headers, name, from } = sign(scheme, body, secret);
        const value = headers[name]!;
        const at = from + (i % (value.length - from));
        fc.pre(value.charCodeAt(at) !== byte);
        const changed = value.slice(0, at) + String.fromCharCode(byte) + value.slice(at + 1);
        const outcome = deliver(scheme, secret, body, { ...headers, [name]: changed });
        expect(outcome).toMatchObject({ kind: 'refuse', status: 401 });
      }),
      RUNS,
    );
  });

  it('never throws, whatever the method, headers, body and config', () => {
    const headerName = fc.oneof(
      fc.constantFrom('content-type', 'stripe-signature', 'x-hub-signature-256', 'x-slack-signature', 'x-slack-request-timestamp', 'x-signature', '__proto__', 'constructor'),
      fc.string({ maxLength: 12 }),
    );
    const headerValue = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain', `t=${T},v1=`, 'sha256=', 'v0=', String(T), '99999999999999999999'),
    );
    const headersArb = fc
      .array(fc.tuple(headerName, fc.oneof(headerValue, fc.array(headerValue, { maxLength: 3 }))), { maxLength: 6 })
      .map((entries) => Object.fromEntries(entries) as Record<string, string | string[]>);
    const bodyAny = fc.oneof(bodyArb, fc.json().map((j) => Buffer.from(j)), fc.string().map((s) => Buffer.from(s)));
    fc.assert(
      fc.property(schemeArb, secretArb, fc.string({ maxLength: 8 }), headersArb, bodyAny, fc.integer(), (scheme, secret, method, headers, body, now) => {
        const outcome = handler(configFor(scheme, secret))({ method, headers, body, now });
        expect(['accept', 'reply', 'refuse']).toContain(outcome.kind);
        if (outcome.kind === 'refuse') expect(outcome.reason).not.toContain(secret.length >= 8 ? secret : '\u0000\u0000');
      }),
      RUNS,
    );
  });

  it('locates an error in exactly the texts JSON.parse rejects', () => {
    const near = fc.tuple(fc.json(), fc.nat(), fc.string({ maxLength: 2 })).map(([j, i, s]) => j.slice(0, i % (j.length + 1)) + s + j.slice(i % (j.length + 1) + 1));
    fc.assert(
      fc.property(fc.oneof(fc.json(), near, fc.string({ maxLength: 30 })), (text) => {
        let valid = true;
        try {
          JSON.parse(text);
        } catch {
          valid = false;
        }
        const at = locateJsonError(text);
        expect(at === undefined).toBe(valid);
        if (at) expect(at.position).toBeLessThanOrEqual(text.length);
      }),
      { numRuns: 2000 },
    );
  });
});
