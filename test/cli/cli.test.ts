// The real `flux` binary, spawned: exit codes, formats, usage errors, and no stack traces.
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { ROOT, runFlux } from '../helpers.js';

const FIXTURES = join(ROOT, 'test/fixtures/lint');

describe('flux', () => {
  it('--version prints the package version', async () => {
    const r = await runFlux(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
  it('--help lists the commands', async () => {
    const r = await runFlux(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('lint');
    expect(r.stdout).toContain('schema');
  });
  it('an unknown command is a usage error (exit 2)', async () => {
    const r = await runFlux(['lnt']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('lint');
  });
  it('schema prints the workflow schema as JSON Schema 2020-12', async () => {
    const r = await runFlux(['schema']);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(typeof schema.$id).toBe('string');
    new Ajv2020({ strict: false }).compile(schema);
  });
});

describe('flux lint', () => {
  it('exits 0 on the example workflows by default', async () => {
    const r = await runFlux(['lint']);
    const examples = readdirSync(join(ROOT, 'workflows')).filter((f) => f.endsWith('.yaml')).length;
    expect(r.stdout).toBe(`${examples} files checked, no problems\n`);
    expect(r.code).toBe(0);
  });
  it('exits 1 on problems and prints file:line:col: message [rule]', async () => {
    const r = await runFlux(['lint', 'test/fixtures/lint/err/unknown-key.yaml']);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[0]).toBe('test/fixtures/lint/err/unknown-key.yaml:6:5: unknown key `ifx` in step `greet`; did you mean `if`? [schema]');
  });
  it('exits 2 for a path that does not exist', async () => {
    const r = await runFlux(['lint', 'no/such/file.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no/such/file.yaml');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
  it('exits 2 for an unreadable file, and still reports the others', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flux-lint-'));
    symlinkSync(join(dir, 'gone.yaml'), join(dir, 'dangling.yaml'));
    writeFileSync(join(dir, 'bad.yaml'), 'name: bad\nowner: o@x.io\ntrigger: manual\nsteps: []\n');
    const r = await runFlux(['lint', dir]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('dangling.yaml:1:1: cannot read file: no such file [io]');
    expect(r.stdout).toContain('bad.yaml:4:8: `steps` must have at least 1 item [schema]');
  });
  it('exits 2 on a bad --format', async () => {
    const r = await runFlux(['lint', '--format', 'xml', 'workflows']);
    expect(r.code).toBe(2);
  });
  it('expands globs itself and recurses into directories', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flux-glob-'));
    mkdirSync(join(dir, 'a/b'), { recursive: true });
    const ok = 'name: n\nowner: o@x.io\ntrigger: manual\nsteps:\n  - id: a\n    set: {x: 1}\non_error:\n  escalate: {uses: http, with: {url: "https://chat.test/alerts"}}\n';
    writeFileSync(join(dir, 'a/one.yaml'), ok.replace('name: n', 'name: one'));
    writeFileSync(join(dir, 'a/b/two.yml'), ok.replace('name: n', 'name: two'));
    writeFileSync(join(dir, 'a/b/notes.txt'), 'not yaml');
    expect((await runFlux(['lint', `${dir}/**/*.y*ml`])).stdout).toBe('2 files checked, no problems\n');
    expect((await runFlux(['lint', dir])).stdout).toBe('2 files checked, no problems\n');
  });
  it('warnings pass unless --max-warnings is exceeded', async () => {
    const file = 'test/fixtures/lint/err/cron-day-fields.yaml';
    expect((await runFlux(['lint', file])).code).toBe(0);
    const strict = await runFlux(['lint', '--max-warnings', '0', file]);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain('--max-warnings 0');
  });
  it('--format json gives the documented fields', async () => {
    const r = await runFlux(['lint', '--format', 'json', 'test/fixtures/lint/err/step-reference.yaml']);
    expect(r.code).toBe(1);
    const items = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(items).toHaveLength(4);
    expect(Object.keys(items[0]!).sort()).toEqual(['column', 'endColumn', 'endLine', 'file', 'line', 'message', 'ruleId', 'severity']);
    expect(items[0]).toMatchObject({ file: 'test/fixtures/lint/err/step-reference.yaml', line: 7, column: 24, ruleId: 'step-reference', severity: 'error' });
  });
  it('--format github prints workflow commands with escaped properties', async () => {
    const r = await runFlux(['lint', '--format', 'github', 'test/fixtures/lint/err/cron.yaml']);
    expect(r.stdout.split('\n')[0]).toBe('::error file=test/fixtures/lint/err/cron.yaml,line=5,col=11,endLine=5,endColumn=23,title=flux lint (cron)::invalid cron `0 25 * * *`: hour field `25` must be within 0-23');
  });
  it('--format sarif is a SARIF 2.1.0 log', async () => {
    const r = await runFlux(['lint', '--format', 'sarif', 'test/fixtures/lint/err/connector.yaml']);
    const log = JSON.parse(r.stdout) as { version: string; runs: { tool: { driver: { rules: { id: string }[] } }; results: { ruleId: string; level: string; locations: { physicalLocation: { region: { startLine: number } } }[] }[] }[] };
    expect(log.version).toBe('2.1.0');
    const run = log.runs[0]!;
    expect(run.tool.driver.rules.map((x) => x.id)).toEqual(['connector']);
    expect(run.results).toHaveLength(8);
    expect(run.results[0]!.level).toBe('error');
    expect(run.results[0]!.locations[0]!.physicalLocation.region.startLine).toBe(9);
  });
  it('colours only when asked: NO_COLOR and pipes get plain text', async () => {
    const file = 'test/fixtures/lint/err/unknown-key.yaml';
    const plain = await runFlux(['lint', file]);
    expect(plain.stdout).not.toContain('\u001b[');
    const forced = await runFlux(['lint', file], { env: { FORCE_COLOR: '1', NO_COLOR: '' } });
    expect(forced.stdout).toContain('\u001b[');
  });
  it('never prints a stack trace for hostile input', async () => {
    const r = await runFlux(['lint', `${FIXTURES}/err`]);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
    expect(r.stderr).toBe('');
  });
});
