// Hostile and broken input: each gets one clear diagnostic, never an exception or a hang.
import { describe, expect, it } from 'vitest';
import { MAX_FILE_BYTES, parseSource } from '../../src/workflow/source.js';

function problem(input: string | Uint8Array): string {
  const r = parseSource('x.yaml', input);
  if (r.ok) throw new Error('expected a problem');
  expect(r.diagnostics).toHaveLength(1);
  const d = r.diagnostics[0]!;
  return `${d.line}:${d.column} [${d.ruleId}] ${d.message}`;
}

describe('hostile input', () => {
  it('rejects files over the size limit before parsing', () => {
    const big = new Uint8Array(MAX_FILE_BYTES + 1).fill(0x61);
    expect(problem(big)).toMatch(/\[file-size\] file is \d+ bytes/);
  });
  it('rejects an alias bomb instead of expanding it', () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 12; i++) levels.push(`l${i}: &l${i} [${Array(10).fill(i === 1 ? '*a' : `*l${i - 1}`).join(',')}]`);
    expect(problem(`${levels.join('\n')}\n`)).toMatch(/alias bomb/);
  });
  it('names duplicate keys at the second occurrence', () => {
    expect(problem('name: a\nowner: b\nname: c\n')).toMatch(/^3:1 \[yaml\] duplicate key/);
  });
  it('names a duplicate key at the key when the first has no value (found by the fuzz test)', () => {
    // The parser points at the end of the line before, or at a blank or comment line between.
    expect(problem('a:\na: 1\n')).toMatch(/^2:1 \[yaml\] duplicate key/);
    expect(problem('x:\n  a:\n\n  # note\n  a: 1\n')).toMatch(/^5:3 \[yaml\] duplicate key `a`; .*\(first defined at 2:3\)$/);
    expect(problem('{a: 1, a: 2}\n')).toMatch(/^1:8 \[yaml\] duplicate key/);
  });
  it('points at the first YAML syntax error only', () => {
    expect(problem('name: a\nsteps:\n  - id: [unclosed\n  - id: b\n')).toMatch(/^\d+:\d+ \[yaml\] invalid YAML/);
  });
  it('rejects binary content', () => {
    expect(problem(new Uint8Array([0x6e, 0x61, 0x00, 0x01]))).toMatch(/\[encoding\] file looks binary/);
  });
  it('rejects invalid UTF-8 with its position', () => {
    expect(problem(Buffer.from('name: ok\nowner: caf\xe9\n', 'latin1'))).toMatch(/^2:11 \[encoding\] file is not valid UTF-8/);
  });
  it('accepts a UTF-8 byte order mark', () => {
    const r = parseSource('x.yaml', Buffer.from('\ufeffname: a\n', 'utf8'));
    expect(r.ok).toBe(true);
  });
  it('rejects empty files, comment-only files, scalars and lists at the top', () => {
    expect(problem('')).toMatch(/\[empty-file\]/);
    expect(problem('   \n\n')).toMatch(/\[empty-file\]/);
    expect(problem('# nothing\n')).toMatch(/\[empty-file\]/);
    expect(problem('just a string\n')).toMatch(/top level is a string/);
    expect(problem('- a\n- b\n')).toMatch(/top level is a list/);
  });
  it('rejects several documents in one file', () => {
    expect(problem('name: a\n---\nname: b\n')).toMatch(/^2:1 \[yaml\] file holds more than one YAML document/);
  });
});
