// The human and GitHub formats print outside text (file names, messages quoting values, source
// lines): control characters come out escaped, and the caret still stands under its span.
import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../src/lint/diagnostic.js';
import { formatGithub, formatJson, formatSarif } from '../../src/lint/format/machine.js';
import { formatStylish } from '../../src/lint/format/stylish.js';

function diag(line: number, column: number, endColumn: number, message: string, file = 'f.yaml'): Diagnostic {
  return { file, line, column, endLine: line, endColumn, severity: 'error', ruleId: 'schema', message };
}

/** The excerpt and marker lines of a one-diagnostic output, without the gutter. */
function excerpt(out: string): { source: string; marker: string } {
  const lines = out.split('\n');
  const source = lines[2]!.replace(/^\d+ \| /, '');
  const marker = lines[3]!.replace(/^ +\| /, '');
  return { source, marker };
}

describe('stylish', () => {
  it('escapes the file name, the message and the source line', () => {
    const text = 'name: a\u001b]0;t\u0007b\n';
    const out = formatStylish([diag(1, 7, 14, 'bad `a\u001b]0;t\u0007b`', 'e\u001b[31m.yaml')], new Map([['e\u001b[31m.yaml', text]]));
    expect(out).not.toMatch(/[\u001b\u0007]/);
    expect(out.split('\n')[0]).toBe('e\\e[31m.yaml:1:7: bad `a\\e]0;t\\x07b` [schema]');
    expect(excerpt(out).source).toBe('name: a\\e]0;t\\x07b');
  });
  it('keeps the caret under the span when escapes widen what stands before it', () => {
    // Two ESCs and a BEL before `target` (1 char each in the file, 2-4 when shown).
    const text = 'k: "\u001b\u001b\u0007" target\n';
    const col = text.indexOf('target') + 1;
    const out = formatStylish([diag(1, col, col + 6, 'here')], new Map([['f.yaml', text]]));
    const { source, marker } = excerpt(out);
    expect(marker.indexOf('^')).toBe(source.indexOf('target'));
    expect(marker.trim()).toBe('^~~~~~');
  });
  it('widens the marker when the span itself holds control characters', () => {
    const text = 'a: "x\u001by"\n';
    const out = formatStylish([diag(1, 4, 10, 'here')], new Map([['f.yaml', text]]));
    const { source, marker } = excerpt(out);
    expect(source).toBe('a: "x\\ey"');
    expect(marker).toBe('   ^~~~~~');
  });
  it('keeps tabs in the lead so the marker lines up under them', () => {
    const text = 'a: "\tv"\n';
    const out = formatStylish([diag(1, 6, 7, 'here')], new Map([['f.yaml', text]]));
    expect(excerpt(out).marker).toBe('    \t^');
  });
});

describe('github', () => {
  it('escapes %, line breaks and control characters so a value cannot start a command of its own', () => {
    const out = formatGithub([diag(1, 1, 2, '100% `x\n::add-mask::y\r\u001b[2J\u202e`', 'a:b,c\u0007.yaml')]);
    expect(out).toBe('::error file=a%3Ab%2Cc\\x07.yaml,line=1,col=1,endLine=1,endColumn=2,title=flux lint (schema)::100%25 `x%0A::add-mask::y\\r\\e[2J\\u202e`\n');
    expect(out.trimEnd().split('\n')).toHaveLength(1);
  });
});

describe('json and sarif', () => {
  it('escape the controls JSON.stringify leaves raw (C1, bidi), keeping the same data', () => {
    const message = 'owner `a\u001b\u009b2J\u202eb\u2066` is wrong';
    const d = diag(1, 1, 2, message, 'x\u202e.yaml');
    for (const out of [formatJson([d]), formatSarif([d], [], '0.0.0')]) {
      expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
      expect(out).toContain('a\\u001b\\u009b2J\\u202eb\\u2066');
    }
    expect((JSON.parse(formatJson([d])) as { message: string; file: string }[])[0]).toMatchObject({ message, file: 'x\u202e.yaml' });
  });
});
