// `flux run` as a real process: exit codes, output modes, bad input, secrets never shown,
// signals, and a crash that leaves only whole records in the log.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRunLog } from '../../src/store/run-log.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { BIN, ROOT, runFlux } from '../helpers.js';
import { startTestServer, type TestServer } from '../test-server.js';

let server: TestServer;
let dir: string;
beforeAll(async () => {
  server = await startTestServer();
  dir = mkdtempSync(join(tmpdir(), 'flux-run-'));
});
afterAll(async () => {
  await server.close();
});

function write(name: string, yaml: string): string {
  writeFileSync(join(dir, name), yaml);
  return name;
}

function logs(workflow: string): string[] {
  const folder = join(dir, '.flux/logs', workflow);
  return readdirSync(folder).sort().map((f) => join(folder, f));
}

/**
 * Spawns `flux run` and sends `signal` once stdout shows `when`; resolves with the exit code
 * (-1 when killed by a signal), the output, and whether the signal was sent.
 */
function runUntil(args: string[], when: string, signal: NodeJS.Signals): Promise<{ code: number; out: string; sent: boolean }> {
  const child = spawn(process.execPath, [BIN, 'run', ...args], { cwd: dir, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' } });
  let out = '';
  let sent = false;
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (!sent && out.includes(when)) {
      sent = true;
      child.kill(signal);
    }
  });
  return new Promise((resolve) => child.on('close', (c) => resolve({ code: c ?? -1, out, sent })));
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

const HEAD = (name: string) => `name: ${name}\nowner: ops@example.com\ntrigger: manual\n`;

describe('flux run', () => {
  it('exit 0 on success, prints each step, and writes a run log', async () => {
    server.script('GET /ok', { status: 200, body: { fine: true } });
    const file = write('ok.yaml', `${HEAD('ok')}steps:\n  - id: get\n    uses: http\n    with: { url: "${server.url}/ok" }\n  - id: done\n    set: { fine: "\${{ steps.get.output.body.fine }}" }\n`);
    const r = await runFlux(['run', file], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/✓ get \d+ms HTTP 200/);
    expect(r.stdout).toMatch(/run \w+ succeeded in/);
    expect(r.stdout).toMatch(/log: \.flux\/logs\/ok\/\w+\.jsonl/);
    expect(r.stdout).not.toContain('\u001b[');
    const log = readRunLog(logs('ok').at(-1)!);
    expect(log.problems).toEqual([]);
    expect(log.records.map((x) => x.type)).toEqual(['run.started', 'step.started', 'step.finished', 'step.started', 'step.finished', 'run.finished']);
  });

  it('on a terminal: colours, a transient running line, and foreach progress rewritten in place', async () => {
    const file = write('tty.yaml', `${HEAD('tty')}steps:\n  - id: each\n    foreach:\n      items: [1, 2, 3]\n      steps:\n        - id: s\n          set: { v: "\${{ item }}" }\n  - id: skipped\n    if: \${{ false }}\n    set: { x: 1 }\n`);
    const r = await runFlux(['run', file], { cwd: dir, env: { FORCE_COLOR: '1', NO_COLOR: '' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('\r\u001b[2K'); // a transient line cleared before the next one
    expect(r.stdout).toMatch(/each 3\/3/);
    expect(r.stdout).toContain('\u001b[32m✓\u001b[0m each');
    expect(r.stdout).toContain('\u001b[2m↷\u001b[0m skipped');
    expect(r.stdout).toMatch(/\u001b\[32msucceeded\u001b\[0m/);
  });

  it('exit 1 on a failed run, naming the step and cause', async () => {
    server.script('GET /broken', { status: 500, body: { error: 'database unavailable' } });
    const file = write('broken.yaml', `${HEAD('broken')}steps:\n  - id: get\n    uses: http\n    with: { url: "${server.url}/broken" }\n`);
    const r = await runFlux(['run', file], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('step get: HTTP 500: {"error":"database unavailable"}');
    expect(r.stdout).toMatch(/run \w+ failed in/);
  });

  it('--json prints only the result document', async () => {
    const file = write('json.yaml', `${HEAD('json')}steps:\n  - id: a\n    set: { n: "\${{ event.n * 2 }}" }\n`);
    const r = await runFlux(['run', file, '--json', '--event', '{"n": 21}'], { cwd: dir });
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { status: string; steps: { step: string }[]; log: string };
    expect(result.status).toBe('succeeded');
    expect(result.steps.map((s) => s.step)).toEqual(['a']);
    expect(readFileSync(result.log, 'utf8')).toContain('"n":42');
  });

  it('records for metrics when the event was received, the response step, and each call\'s method', async () => {
    server.script('GET /lead', { status: 200, body: { email: 'ann@example.com' } });
    server.script('POST /replies', { status: 201, body: { id: 9 } });
    server.script('PUT /crm', { status: 200, body: {} });
    const file = write('answer.yaml', `${HEAD('answer')}steps:
  - id: lookup
    uses: http
    with: { url: "${server.url}/lead" }
  - id: reply
    response: true
    uses: http
    with: { url: "${server.url}/replies", method: POST, json: { to: "\${{ steps.lookup.output.body.email }}" } }
  - id: note
    set: { done: true }
  - id: update
    uses: http
    with: { url: "${server.url}/crm", method: PUT }
`);
    const before = Date.now();
    const r = await runFlux(['run', file, '--json'], { cwd: dir });
    const after = Date.now();
    expect(r.code, r.stderr).toBe(0);
    const log = readRunLog((JSON.parse(r.stdout) as { log: string }).log);
    expect(log.problems).toEqual([]);
    const validate = addFormats(new Ajv2020({ strict: true })).compile(JSON.parse(readFileSync(join(ROOT, 'schemas/run-log.schema.json'), 'utf8')) as object);
    for (const record of log.records) expect(validate(record), JSON.stringify(validate.errors)).toBe(true);
    const started = log.records[0]!;
    if (started.type !== 'run.started') throw new Error(`first record is ${started.type}`);
    expect(started.response_step).toBe('reply');
    // flux run has no intake: the event was received when the run started, on this process's clock.
    const received = Date.parse(started.received_at ?? '');
    expect(received).toBeGreaterThanOrEqual(before);
    expect(received).toBeLessThanOrEqual(Date.parse(started.ts));
    expect(Date.parse(started.ts)).toBeLessThanOrEqual(after);
    const finishedSteps = log.records.flatMap((x) => (x.type === 'step.finished' ? [[x.step, x.status, x.method ?? null, x.http_status ?? null]] : []));
    expect(finishedSteps).toEqual([['lookup', 'succeeded', 'GET', 200], ['reply', 'succeeded', 'POST', 201], ['note', 'succeeded', null, null], ['update', 'succeeded', 'PUT', 200]]);
  });

  it('reads the event from a file, from stdin, and from --set', async () => {
    const file = write('event.yaml', `${HEAD('event')}steps:\n  - id: a\n    set: { who: "\${{ event.name + '/' + string(event.n) + '/' + event.deep.k }}" }\n`);
    writeFileSync(join(dir, 'event.json'), '{"name":"file","n":1,"deep":{"k":"x"}}');
    const fromFile = JSON.parse((await runFlux(['run', file, '--json', '--event', '@event.json'], { cwd: dir })).stdout) as { status: string };
    expect(fromFile.status).toBe('succeeded');
    const fromStdin = await runFlux(['run', file, '--json', '--event', '-', '--set', 'deep.k=y', '--set', 'n=5'], { cwd: dir, input: '{"name":"stdin","deep":{}}' });
    expect(fromStdin.code).toBe(0);
    const log = readRunLog(logs('event').at(-1)!);
    expect(JSON.stringify(log.records)).toContain('"who":"stdin/5/y"');
  });

  it('exit 2 for a malformed event, with no stack trace', async () => {
    const file = write('bad-event.yaml', `${HEAD('bad-event')}steps:\n  - id: a\n    set: { x: 1 }\n`);
    const r = await runFlux(['run', file, '--event', '{"name": '], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^flux: the event in --event is not valid JSON: /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('exit 2 and a recorded rejection for an event that fails inputs', async () => {
    const file = write('inputs.yaml', `${HEAD('inputs')}inputs:\n  type: object\n  required: [email]\nsteps:\n  - id: a\n    set: { x: 1 }\n`);
    const r = await runFlux(['run', file, '--event', '{}'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain("the event does not match the workflow's inputs: event must have required property `email`");
    const log = readRunLog(logs('inputs').at(-1)!);
    expect(log.records.at(-1)).toMatchObject({ type: 'run.finished', status: 'rejected' });
  });

  it('refuses to start a workflow with lint errors, with the lint messages', async () => {
    const file = write('lint.yaml', `${HEAD('lint')}steps:\n  - id: a\n    set: { x: "\${{ steps.nope.output }}" }\n`);
    const r = await runFlux(['run', file], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('lint.yaml:6:26: unknown step `nope` [step-reference]');
  });

  it('--dry-run sends nothing and shows the rendered requests', async () => {
    const before = server.received.length;
    const file = write('dry.yaml', `${HEAD('dry')}steps:\n  - id: post\n    uses: http\n    with: { method: POST, url: "${server.url}/dry", json: { a: 1 } }\n`);
    const r = await runFlux(['run', file, '--dry-run'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(server.received.length).toBe(before);
    expect(r.stdout).toContain(`POST ${server.url}/dry`);
    expect(r.stdout).toContain('idempotency-key: ');
    expect(r.stdout).toContain('{"a":1}');
  });

  it('never shows a secret: not in terminal, JSON result, errors, or the run log, in any encoding', async () => {
    const secret = 'p@ss "wörd"/+&=tok';
    const user = 'svc-user';
    server.script('* /echo', { status: 200, echo: true });
    const yaml = `${HEAD('secrets')}secrets: [API_KEY, PASSWORD]
connections:
  basic: { base_url: "${server.url}", auth: { basic: { username: ${user}, password: "\${{ secrets.PASSWORD }}" } } }
  keyed: { base_url: "${server.url}", auth: { api_key: { query: key, value: "\${{ secrets.API_KEY }}" } } }
steps:
  - id: in_url_and_body
    uses: http
    with:
      method: POST
      url: "${server.url}/echo?token=\${{ secrets.API_KEY }}"
      headers: { X-Secret: "\${{ secrets.API_KEY }}" }
      json: { nested: { value: "\${{ secrets.API_KEY }}" }, sentence: "key is \${{ secrets.API_KEY }}" }
  - id: in_basic_auth
    uses: basic.request
    with: { method: POST, path: /echo, form: { password: "\${{ secrets.PASSWORD }}" } }
  - id: in_query_auth
    uses: keyed.request
    with: { path: /echo }
  - id: as_text
    set: { copy: "\${{ secrets.API_KEY }}", echoed: "\${{ steps.in_url_and_body.output.body.body }}" }
  - id: stop
    fail: "giving up with \${{ secrets.API_KEY }} and \${{ steps.in_basic_auth.output.body.headers.authorization }}"
`;
    const file = write('secrets.yaml', yaml);
    const env = { API_KEY: secret, PASSWORD: secret };
    const plainRun = await runFlux(['run', file], { cwd: dir, env });
    const jsonRun = await runFlux(['run', file, '--json'], { cwd: dir, env });
    const dryRun = await runFlux(['run', file, '--dry-run'], { cwd: dir, env });
    expect(plainRun.code).toBe(1);
    expect(plainRun.stdout).toContain('giving up with *** and Basic ***');
    const logText = logs('secrets').map((f) => readFileSync(f, 'utf8')).join('');
    const everything = [plainRun.stdout, plainRun.stderr, jsonRun.stdout, jsonRun.stderr, dryRun.stdout, dryRun.stderr, logText].join('\n');
    const forms = [
      secret, encodeURIComponent(secret), new URLSearchParams({ v: secret }).toString().slice(2), JSON.stringify(secret).slice(1, -1),
      Buffer.from(secret).toString('base64'), Buffer.from(`${user}:${secret}`).toString('base64'), 'wörd', 'w%C3%B6rd',
    ];
    for (const form of forms) expect(everything, `leaked as ${form}`).not.toContain(form);
    expect(logText).toContain('***');
    // the secret really was sent, so masking (not absence) is what kept it out
    expect(server.received.some((r) => r.body.includes(JSON.stringify(secret).slice(1, -1)))).toBe(true);
  });

  it('exit 2 for an event that is not an object, and for a missing env file named with -E', async () => {
    const file = write('shape.yaml', `${HEAD('shape')}steps:\n  - id: a\n    set: { x: 1 }\n`);
    const list = await runFlux(['run', file, '--event', '[1, 2]'], { cwd: dir });
    expect(list.code).toBe(2);
    expect(list.stderr).toContain('flux: the event must be a JSON object, not a list');
    const missing = await runFlux(['run', file, '-E', 'missing.env'], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('flux: --env-file missing.env: cannot read the file\n');
  });

  it('reads secrets from an env file', async () => {
    writeFileSync(join(dir, 'secrets.env'), '# test\nexport TOKEN="from file"\n');
    const file = write('envfile.yaml', `${HEAD('envfile')}secrets: [TOKEN]\nsteps:\n  - id: a\n    set: { n: "\${{ size(secrets.TOKEN) }}" }\n`);
    const r = await runFlux(['run', file, '--env-file', 'secrets.env', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(readFileSync((JSON.parse(r.stdout) as { log: string }).log, 'utf8')).toContain('"n":9');
  });

  it('SIGINT cancels the run and records it', async () => {
    const file = write('long.yaml', `${HEAD('long')}steps:\n  - id: pause\n    wait: 1h\n`);
    const { code, out } = await runUntil([file], 'pause started', 'SIGINT');
    expect(code).toBe(1);
    expect(out).toMatch(/run \w+ cancelled/);
    expect(readRunLog(logs('long').at(-1)!).records.at(-1)).toMatchObject({ type: 'run.finished', status: 'cancelled' });
  });

  it('SIGKILL mid-run leaves only whole records in the log', async () => {
    server.script('GET /tick', { status: 200, body: { t: 1 } });
    const file = write('killed.yaml', `${HEAD('killed')}steps:\n  - id: loop\n    foreach:\n      items: "\${{ event.items }}"\n      steps:\n        - id: tick\n          uses: http\n          with: { url: "${server.url}/tick" }\n`);
    const items = JSON.stringify({ items: Array.from({ length: 2000 }, (_, i) => i) });
    // Kill it once a quarter of the items are done: mid-run, with records being written.
    const { sent } = await runUntil([file, '--event', items], 'loop 500/2000', 'SIGKILL');
    const log = readRunLog(logs('killed').at(-1)!);
    expect(log.problems).toEqual([]);
    expect(log.records[0]?.type).toBe('run.started');
    expect(sent).toBe(true);
    expect(log.records.filter((r) => r.type === 'step.finished').length).toBeGreaterThanOrEqual(500);
    expect(log.records.some((r) => r.type === 'run.finished')).toBe(false);
  });

  it('a closed stdout does not stop the run from finishing and recording', async () => {
    const file = write('pipe.yaml', `${HEAD('pipe')}steps:\n  - id: each\n    foreach:\n      items: "\${{ event.items }}"\n      steps:\n        - id: s\n          set: { v: "\${{ item }}" }\n`);
    const items = JSON.stringify({ items: Array.from({ length: 300 }, (_, i) => i) });
    const child = spawn(process.execPath, [BIN, 'run', file, '--event', items], { cwd: dir, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' } });
    child.stdout.destroy(); // like `flux run … | head -1` once head has exited
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(readRunLog(logs('pipe').at(-1)!).records.at(-1)).toMatchObject({ type: 'run.finished', status: 'succeeded' });
  });

  it('FLUX_HOME moves the run logs', async () => {
    const home = mkdtempSync(join(tmpdir(), 'flux-home-'));
    const file = write('home.yaml', `${HEAD('home')}steps:\n  - id: a\n    set: { x: 1 }\n`);
    const r = await runFlux(['run', file, '--json'], { cwd: dir, env: { FLUX_HOME: home } });
    expect((JSON.parse(r.stdout) as { log: string }).log.startsWith(join(home, 'logs', 'home'))).toBe(true);
  });
});

describe('flux demo', () => {
  it('runs every example against the sandbox, and its logs match the run-log schema', async () => {
    const logDir = mkdtempSync(join(tmpdir(), 'flux-demo-'));
    const r = await runFlux(['demo', '--log-dir', logDir]);
    expect(r.stderr).toBe('');
    // One run per example (event-triggered ones start from the events the others emit).
    const examples = readdirSync(join(ROOT, 'workflows')).filter((f) => f.endsWith('.yaml')).length;
    expect(r.stdout).toContain(`${examples} runs, ${examples} succeeded`);
    // The daemon act: a Stripe-signed delivery runs once, its redelivery is deduplicated and a
    // forged one refused; an emitted event starts the next workflow; waits pass on the moved
    // clock; a schedule fires.
    const act = r.stdout.slice(r.stdout.indexOf('The daemon at work'));
    const paid = /POST \/hooks\/payments[^\n]*\n {2}→ 202 \{"run_id":"(\w+)"\}/.exec(act);
    expect(paid).not.toBeNull();
    expect(act).toContain(`→ 200 {"run_id":"${paid![1]}","duplicate":true}`);
    expect(act).toMatch(/→ 401 no `v1` signature in `Stripe-Signature` matches the body/);
    expect(act).toMatch(/event lead\.qualified \(\w+:qualified\) from run \w+: started \w+/);
    expect(act).toMatch(/appointment-reminders waiting at reply until [^\n]+ or event appointment\.confirmed/);
    expect(act).toMatch(/appointment-reminders resumed after its wait/);
    expect(act).toMatch(/appointment-reminders succeeded/);
    expect(act).toMatch(/invoice-follow-up started \(schedule for /);
    // Approvals: one answered on the page (an adjusted discount), one with flux approve.
    expect(act).toMatch(/GET the link [^\n]* → 200, buttons approve \/ reject\n/);
    expect(act).toContain('→ 200 Recorded: approve by maria@northwind.example.');
    expect(act).toContain('Discount: 15% (approval: approve by maria@northwind.example)');
    expect(act).toMatch(/recorded: reject by tom@northwind\.example for run \w+ step approve_discount/);
    expect(act).toContain('Discount: 0% (approval: reject by tom@northwind.example)');
    expect(act).toMatch(/the daemon: (\d+) runs ended, \1 succeeded\n/);
    expect(r.code).toBe(0);
    const workflows = readdirSync(logDir).sort();
    expect(workflows).toEqual(readdirSync(join(ROOT, 'workflows')).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, '')).sort());
    expect(r.stdout).not.toContain('demo-intercom-token');
    const validate = addFormats(new Ajv2020({ strict: true })).compile(JSON.parse(readFileSync(join(ROOT, 'schemas/run-log.schema.json'), 'utf8')) as object);
    let records = 0;
    for (const wf of workflows) {
      for (const f of readdirSync(join(logDir, wf))) {
        const log = readRunLog(join(logDir, wf, f));
        expect(log.problems).toEqual([]);
        expect(log.truncatedTail).toBe(false);
        expect(log.records.filter((x) => x.type === 'run.finished')).toHaveLength(1);
        for (const record of log.records) {
          expect(validate(record), JSON.stringify(validate.errors)).toBe(true);
          records++;
        }
      }
    }
    expect(records).toBeGreaterThan(50);
    // It ends by saying how to measure the runs, and that command reads them.
    const hint = /\nwhat they are worth \(hours reclaimed, time to response, leaks\): npx flux metrics (\S+)\n/.exec(r.stdout);
    expect(hint).not.toBeNull();
    const measured = await runFlux(['metrics', hint![1]!, '--format', 'json']);
    expect(measured.code, measured.stderr).toBe(0);
    const daemonRuns = Number(/the daemon: (\d+) runs ended/.exec(r.stdout)![1]);
    expect((JSON.parse(measured.stdout) as { totals: { runs: object } }).totals.runs).toMatchObject({ started: examples + daemonRuns, succeeded: examples + daemonRuns });
  });
});
