// Golden tests: every ok/*.yaml lints clean; every err/<case>.yaml prints exactly err/<case>.out.
// Set UPDATE_GOLDEN=1 to rewrite the .out files after an intended change, then review the diff.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runInProcess } from '../helpers.js';

const DIR = join(ROOT, 'test/fixtures/lint');
const update = process.env.UPDATE_GOLDEN === '1';

describe('ok fixtures', () => {
  it('lint clean together', async () => {
    const r = await runInProcess(['lint', 'ok'], DIR);
    expect(r.stdout).toMatch(/files checked, no problems/);
    expect(r.code).toBe(0);
  });
  it('the example workflows lint clean', async () => {
    const r = await runInProcess(['lint', 'workflows'], ROOT);
    // Counted, not written down: every example added must lint clean too.
    const examples = readdirSync(join(ROOT, 'workflows')).filter((f) => f.endsWith('.yaml')).length;
    expect(r.stdout).toBe(`${examples} files checked, no problems\n`);
    expect(r.code).toBe(0);
  });
});

const cases = readdirSync(join(DIR, 'err')).filter((f) => /\.ya?ml$/.test(f)).sort();

describe('err fixtures', () => {
  it('has a case for every golden file', () => {
    const outs = readdirSync(join(DIR, 'err')).filter((f) => f.endsWith('.out'));
    for (const out of outs) expect(cases).toContain(out.replace(/\.out$/, '.yaml'));
    expect(cases.length).toBeGreaterThan(20);
  });
  for (const file of cases) {
    it(file, async () => {
      const r = await runInProcess(['lint', `err/${file}`], DIR);
      const golden = join(DIR, 'err', file.replace(/\.ya?ml$/, '.out'));
      if (update) writeFileSync(golden, r.stdout);
      expect(existsSync(golden), `missing ${golden}; run with UPDATE_GOLDEN=1 and review it`).toBe(true);
      expect(r.stdout).toBe(readFileSync(golden, 'utf8'));
      const warningsOnly = / \(0 errors, /.test(r.stdout);
      expect(r.code).toBe(warningsOnly ? 0 : 1);
      expect(r.stderr).toBe('');
    });
  }
});

describe('project fixture', () => {
  it('reports cross-file problems', async () => {
    const r = await runInProcess(['lint', 'project'], DIR);
    const golden = join(DIR, 'project.out');
    if (update) writeFileSync(golden, r.stdout);
    expect(r.stdout).toBe(readFileSync(golden, 'utf8'));
    expect(r.code).toBe(1);
  });
});
