// `flux graph` as a user runs it: a real spawned process, real files, every format, --out,
// a directory, and every exit code.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { ROOT, runFlux } from '../helpers.js';

const EVERY = 'test/graph/fixtures/every-kind.yaml';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'flux-graph-'));
}

describe('flux graph FILE', () => {
  it('prints a Mermaid flowchart by default, exit 0', async () => {
    const r = await runFlux(['graph', 'workflows/lead-intake.yaml']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').slice(0, 5)).toEqual(['---', 'title: "lead-intake"', '---', 'flowchart TD', '  n0(["webhook<br>POST /hooks/leads"])']);
  });

  it('prints DOT with --format dot, and SVG with --format svg', async () => {
    const dot = await runFlux(['graph', EVERY, '--format', 'dot']);
    expect(dot.code).toBe(0);
    expect(dot.stdout).toMatch(/^digraph "every-kind" \{\n/);
    expect(dot.stdout).toContain('subgraph cluster_g0 {');
    const svg = await runFlux(['graph', EVERY, '-f', 'svg']);
    expect(svg.code).toBe(0);
    expect(svg.stdout).toContain('<svg ');
    expect(svg.stdout).toContain('Fetch &quot;the&quot; [lead] &#45;&#45;&gt; {now} &lt;/script&gt;&lt;script&gt;x&lt;/script&gt;');
    expect(svg.stdout).not.toMatch(/<script/i);
  });

  it('writes --out, the format taken from its extension, and nothing to stdout', async () => {
    const dir = tempDir();
    for (const [name, start] of [['map.svg', '<?xml'], ['map.dot', 'digraph'], ['map.gv', 'digraph'], ['map.mmd', '---\ntitle']] as const) {
      const r = await runFlux(['graph', EVERY, '--out', join(dir, name)]);
      expect([r.code, r.stdout, r.stderr]).toEqual([0, '', '']);
      expect(readFileSync(join(dir, name), 'utf8').startsWith(start)).toBe(true);
    }
    const forced = await runFlux(['graph', EVERY, '--out', join(dir, 'map.txt'), '--format', 'dot']);
    expect(forced.code).toBe(0);
    expect(readFileSync(join(dir, 'map.txt'), 'utf8')).toMatch(/^digraph/);
  });

  it('exit 2 on a bad --format, an --out it cannot tell the format of, or cannot write', async () => {
    const dir = tempDir();
    const bad = await runFlux(['graph', EVERY, '--format', 'png']);
    expect([bad.code, bad.stdout, bad.stderr]).toEqual([2, '', 'flux: --format takes mermaid, dot, svg, not `png`\n']);
    const ext = await runFlux(['graph', EVERY, '--out', join(dir, 'map.png')]);
    expect(ext.code).toBe(2);
    expect(ext.stderr).toMatch(/^flux: cannot tell the format from --out `.*map\.png`: name it \.mmd, \.dot or \.svg/);
    const nowhere = await runFlux(['graph', EVERY, '--out', join(dir, 'no/such/dir/map.svg')]);
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toContain('no such directory');
  });

  it('exit 2 on a path that is not there', async () => {
    const r = await runFlux(['graph', 'workflows/nope.yaml']);
    expect([r.code, r.stdout, r.stderr]).toEqual([2, '', 'flux: cannot read `workflows/nope.yaml`: no such file or directory\n']);
  });

  it('exit 2 on a path that is no regular file (a FIFO), without hanging on it', async () => {
    const dir = tempDir();
    execFileSync('mkfifo', [join(dir, 'pipe.yaml')]);
    const r = await runFlux(['graph', 'pipe.yaml'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^pipe\.yaml:1:1: cannot read file: .*FIFO.* \[io\]\n/);
  });

  it('exit 2 on a workflow that does not load, with its problems as flux lint prints them', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.yaml'), 'name: bad\nowner: "@o"\ntrigger: manual\nsteps:\n  - id: a\n    uses: http\n    with: { url: http://127.0.0.1:9/ }\n    wiht: {}\n');
    const r = await runFlux(['graph', 'bad.yaml'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^bad\.yaml:8:5: .*wiht.* \[schema\]\n/);
    expect(r.stderr).toContain('8 |     wiht: {}\n');
    expect(r.stderr).toMatch(/flux: nothing drawn: 1 file does not load \(see `flux lint`\)\n$/);
  });

  it('exit 3 on an internal fault, with no stack unless --debug', async () => {
    let stderr = '';
    const io = (debug: boolean) => ({
      stdout: { write: () => { throw new Error('disk on fire'); } },
      stderr: { write: (s: string) => (stderr += s) },
      env: {}, cwd: ROOT, debug,
    });
    expect(await main(['graph', EVERY], io(false))).toBe(3);
    expect(stderr).toBe('flux: internal error: disk on fire\nflux: run again with --debug for a stack trace, and report it as a bug\n');
    stderr = '';
    expect(await main(['graph', EVERY, '--debug'], io(true))).toBe(3);
    expect(stderr).toMatch(/^flux: internal error: disk on fire\nError: disk on fire\n\s+at /);
  });
});

describe('flux graph DIR', () => {
  it('draws the directory: workflows with owners, linked by events, with their sources', async () => {
    const r = await runFlux(['graph', 'workflows']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('flowchart LR\n');
    // Node ids follow the file names; look them up rather than naming them.
    const id = (label: string) => new RegExp(`(n\\d+)\\["${label}<br>`).exec(r.stdout)?.[1];
    expect(r.stdout).toContain(`${id('lead-intake')}["lead-intake<br>owner: sales-ops@example.com"]`);
    expect(r.stdout).toContain(`${id('lead-intake')} -->|"lead.qualified"| ${id('appointment-reminders')}`);
  });

  it('exit 2 when one of the workflows does not load, naming it', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'flows'));
    writeFileSync(join(dir, 'flows/good.yaml'), 'name: good\nowner: "@o"\ntrigger: manual\nsteps:\n  - id: a\n    emit: { event: x.y }\n');
    writeFileSync(join(dir, 'flows/broken.yaml'), 'name: [\n');
    const r = await runFlux(['graph', 'flows'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^flows\/broken\.yaml:\d+:\d+: /);
  });

  it('exit 2 on a directory with no workflow in it', async () => {
    const dir = tempDir();
    const r = await runFlux(['graph', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^flux: no \*\.yaml or \*\.yml files found in `.*`\n$/);
  });
});
