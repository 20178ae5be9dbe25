// Secrets against a hostile service: the real `flux run` sends secrets as bearer and basic auth,
// an API key in the query or a header, a URL host, headers and bodies to `/echo`, which sends
// back everything it got in every encoding (succeeding and failing), and a step then fails with
// the echoed text as its message. Whatever the mode (progress, --json, --dry-run), no form of
// any secret flux promises to mask may appear in stdout, stderr or the run log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectContract, head, workspace } from './harness.js';
import { encodings, startHostileServer, type HostileServer } from './hostile-server.js';

/** Secret values with the characters encoders treat differently: space, @ : / + = " & < and non-ASCII. */
const SECRETS = {
  TOKEN: 'Tk-9f/B+c="é&<q',
  PASSWORD: 'p@ss wörd:7;Z',
  TENANT: 'AcmeCorp123',
} as const;
type Name = keyof typeof SECRETS;

/** The base64 characters a secret's bytes alone determine at byte offset p (mod 3) of a longer text. */
function offsetBase64(secret: string, p: number, alphabet: 'base64' | 'base64url'): string {
  const bytes = Buffer.from(secret, 'utf8');
  const encoded = Buffer.concat([Buffer.alloc(p), bytes]).toString(alphabet);
  return encoded.slice(Math.ceil((8 * p) / 6), Math.floor((8 * (p + bytes.length)) / 6));
}

/** How flux writes a secret into text: as is, percent-encoded (two ways), JSON-escaped (two ways). */
function texts(secret: string): string[] {
  return [
    secret,
    encodeURIComponent(secret),
    new URLSearchParams({ v: secret }).toString().slice(2),
    JSON.stringify(secret).slice(1, -1),
    JSON.stringify(secret).slice(1, -1).replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
  ];
}

/**
 * Every form of a secret flux promises to mask: each of its texts in each of the hostile
 * server's encodings (so also hex, base64, case-folded and twice percent-encoded), plus
 * percent-encoding with lower-case hex, HTML entities, and base64 of a longer text at byte
 * offsets 1 and 2.
 */
function forms(secret: string): string[] {
  const all = texts(secret).flatMap((t) => [
    ...Object.values(encodings(t)),
    ...[1, 2].flatMap((p) => [offsetBase64(t, p, 'base64'), offsetBase64(t, p, 'base64url')]),
  ]);
  all.push(encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()));
  all.push(secret.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;'));
  return [...new Set(all)];
}

/** The basic-auth credential flux derives from PASSWORD; `svc-usr:` puts the password at byte offset 8. */
const USER = 'svc-usr';
const CREDENTIAL = Buffer.from(`${USER}:${SECRETS.PASSWORD}`).toString('base64');

const ALL_FORMS = [...Object.values(SECRETS), CREDENTIAL].flatMap(forms);

interface Case {
  readonly name: string;
  /** Which secrets the workflow declares. */
  readonly uses: readonly Name[];
  /** The `connections:` entry named `api`, given the server URL. */
  readonly connection?: (url: string) => string;
  /** The `uses:` and `with:` of the call, given the server URL and the status /echo answers. */
  readonly call: (url: string, status: number) => string;
  /** When the call itself cannot succeed (an unreachable host). */
  readonly unreachable?: boolean;
}

const s = (name: Name) => `\${{ secrets.${name} }}`;

const CASES: readonly Case[] = [
  { name: 'bearer auth', uses: ['TOKEN'], connection: (u) => `api: { base_url: "${u}", auth: { bearer: "${s('TOKEN')}" } }`, call: (_u, st) => `uses: api.request\n    with: { method: POST, path: "/echo?status=${st}" }` },
  { name: 'basic auth', uses: ['PASSWORD'], connection: (u) => `api: { base_url: "${u}", auth: { basic: { username: ${USER}, password: "${s('PASSWORD')}" } } }`, call: (_u, st) => `uses: api.request\n    with: { path: "/echo?status=${st}" }` },
  { name: 'api key in the query', uses: ['TOKEN'], connection: (u) => `api: { base_url: "${u}", auth: { api_key: { query: key, value: "${s('TOKEN')}" } } }`, call: (_u, st) => `uses: api.request\n    with: { path: "/echo?status=${st}" }` },
  { name: 'api key in a header', uses: ['PASSWORD'], connection: (u) => `api: { base_url: "${u}", auth: { api_key: { header: X-Api-Key, value: "${s('PASSWORD')}" } } }`, call: (_u, st) => `uses: api.request\n    with: { path: "/echo?status=${st}" }` },
  { name: 'headers', uses: ['TOKEN', 'TENANT'], call: (u, st) => `uses: http\n    with: { url: "${u}/echo?status=${st}", headers: { X-Token: "Token ${s('TOKEN')}", X-Tenant: "${s('TENANT')}" } }` },
  { name: 'a JSON body', uses: ['TOKEN', 'PASSWORD'], call: (u, st) => `uses: http\n    with: { method: POST, url: "${u}/echo?status=${st}", json: { token: "${s('TOKEN')}", note: "password is ${s('PASSWORD')}!" } }` },
  { name: 'a form body', uses: ['PASSWORD'], call: (u, st) => `uses: http\n    with: { method: POST, url: "${u}/echo?status=${st}", form: { user: svc, password: "${s('PASSWORD')}" } }` },
  { name: 'a raw body and the query', uses: ['TOKEN', 'TENANT'], call: (u, st) => `uses: http\n    with: { method: PUT, url: "${u}/echo?status=${st}", query: { tenant: "${s('TENANT')}" }, body: "t=${s('TOKEN')}" }` },
  { name: 'a URL host', uses: ['TENANT'], unreachable: true, call: () => `uses: http\n    with: { url: "http://${s('TENANT')}.invalid/echo" }` },
];

function workflow(c: Case, url: string, status: number): string {
  return `${head(`secrets-${status}`)}secrets: [${c.uses.join(', ')}]
${c.connection ? `connections:\n  ${c.connection(url)}\n` : ''}steps:
  - id: call
    on_error: continue
    ${c.call(url, status)}
  - id: echoed
    set: { text: "\${{ steps.call.output.body.text }}", error: "\${{ steps.call.error }}" }
  - id: stop
    fail: "the service said \${{ steps.call.output.body.text }} (\${{ steps.call.error }})"
`;
}

describe('secrets against a hostile service: no form of a secret in any output', () => {
  let server: HostileServer;
  beforeAll(async () => {
    server = await startHostileServer();
  });
  afterAll(async () => {
    await server.close();
  });

  const modes = [
    { mode: 'progress', args: [] as string[], statuses: [200, 500] },
    { mode: '--json', args: ['--json'], statuses: [500] },
    // A dry run sends nothing and the last step only would fail: exit 0, and no run log.
    { mode: '--dry-run', args: ['--dry-run'], statuses: [200] },
  ];
  for (const c of CASES) {
    for (const { mode, args, statuses } of modes) {
      for (const status of c.unreachable ? [200] : statuses) {
        it.concurrent(`${c.name}, ${mode}, /echo answering ${status}`, async () => {
          const ws = workspace('flux-secrets-');
          const file = ws.write('wf.yaml', workflow(c, server.url, status));
          const env = Object.fromEntries(c.uses.map((n) => [n, SECRETS[n]]));
          await expectContract({
            args: ['run', file, ...args, '--log-dir', 'logs'], cwd: ws.dir, env, exit: mode === '--dry-run' ? 0 : 1, withinMs: 20_000,
            ...(mode === '--dry-run' ? {} : { logDir: `${ws.dir}/logs` }), secrets: ALL_FORMS,
          });
        });
      }
    }
  }
});

// Where flux cuts outside text short (an error's detail, a body that is not JSON, an output
// past the log's cap), it must mask first: a cut through a secret leaves its first part, which
// no form of the secret matches any more.
describe('secrets cut short: no first part of a secret either', () => {
  let server: HostileServer;
  beforeAll(async () => {
    server = await startHostileServer();
  });
  afterAll(async () => {
    await server.close();
  });

  const prefix = SECRETS.TENANT.slice(0, 7);
  const call = (status: number, body: string) => `on_error: continue\n    uses: http\n    with: { url: "${server.url}/status", query: { code: ${status}, body: '${body}' } }`;
  // Each step's padding puts the secret across the cut at a different place; /status answers
  // with the body it is given.
  const cuts = [
    { name: "a failed call's error detail (200 characters)", step: (pad: number) => call(500, `{"e":"${'x'.repeat(pad)}${s('TENANT')}"}`), pads: [184, 185, 186, 187] },
    { name: 'a body that is not JSON (2,000 characters)', step: (pad: number) => call(200, `${'x'.repeat(pad)}${s('TENANT')}`), pads: [1986, 1988, 1990, 1992] },
    { name: "an output past the run log's cap (16 KiB)", step: (pad: number) => `set: { big: "${'x'.repeat(pad)}${s('TENANT')}" }`, pads: [16_369, 16_371] },
  ];
  for (const cut of cuts) {
    it.concurrent(cut.name, async () => {
      const ws = workspace('flux-secrets-cut-');
      const steps = cut.pads.map((pad, i) => `  - id: step${i}\n    ${cut.step(pad)}\n`).join('');
      const file = ws.write('wf.yaml', `${head('secrets-cut')}secrets: [TENANT]\nsteps:\n${steps}  - id: stop\n    fail: "done"\n`);
      const o = await expectContract({
        args: ['run', file, '--log-dir', 'logs'], cwd: ws.dir, env: { TENANT: SECRETS.TENANT }, exit: 1, withinMs: 20_000, logDir: `${ws.dir}/logs`, secrets: ALL_FORMS,
      });
      for (const [where, text] of [['stdout', o.stdout], ['run log', o.logText]] as const) {
        expect(text.toLowerCase().includes(prefix.toLowerCase()), `${prefix} in ${where}:\n${text.slice(0, 3000)}`).toBe(false);
      }
      expect(o.logText, 'the secret was sent and echoed, and masked').toContain('***');
    });
  }
});
