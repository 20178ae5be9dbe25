// Labels in each format: whatever the text, the escaped form stays inside its quotes and reads
// back as the text (property tests over arbitrary strings, including every ASCII character).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dotString } from '../../src/graph/dot.js';
import { mermaidText } from '../../src/graph/mermaid.js';
import { bound, MAX_LABEL } from '../../src/graph/model.js';

/** What Mermaid shows for an escaped label: numeric entities decoded. */
function decodeMermaid(s: string): string {
  return s.replace(/#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)));
}

/** What Graphviz reads from a DOT string: quotes and backslashes unescaped, &amp; decoded. */
function decodeDot(s: string): string {
  expect(s.startsWith('"') && s.endsWith('"')).toBe(true);
  return s.slice(1, -1).replace(/\\(.)/g, '$1').replace(/&amp;/g, '&');
}

const texts = fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: fc.constantFrom(...'"\'<>&#;[](){}|\\`$%-=\n\r\t /ﬂ°¶ß'.split('')) }));

describe('mermaidText', () => {
  it('leaves only characters that cannot end a label or start syntax, and reads back as the text', () => {
    fc.assert(fc.property(texts, (t) => {
      const e = mermaidText(t);
      expect(e).not.toMatch(/["<>&[\]{}|`\\\n\r\t]/);
      expect(decodeMermaid(e).replace(/\u200b/g, '')).toBe(t);
    }));
  });
  it('writes a quote as an entity and breaks $$ so it is not read as math', () => {
    expect(mermaidText('say "hi" --> [x]')).toBe('say #34;hi#34; --#62; #91;x#93;');
    expect(mermaidText('$$x$$')).toBe('#36;#8203;#36;x#36;#8203;#36;');
    expect(mermaidText('naïve 大')).toBe('naïve 大');
  });
});

describe('dotString', () => {
  it('stays one quoted string and reads back as the text', () => {
    fc.assert(fc.property(texts, (t) => {
      const e = dotString(t);
      expect(e.slice(1, -1)).not.toMatch(/(^|[^\\])(\\\\)*"/);
      expect(decodeDot(e)).toBe(t);
    }));
  });
  it('keeps Graphviz escapes such as \\N as text', () => {
    expect(dotString('a\\N"b"&lt;')).toBe('"a\\\\N\\"b\\"&amp;lt;"');
  });
});

describe('bound', () => {
  it('makes one line of at most MAX_LABEL characters, without control characters', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (t) => {
      const b = bound(t);
      expect(Array.from(b).length).toBeLessThanOrEqual(MAX_LABEL);
      expect(b).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
    }));
    expect(bound('a\nb\r\n\u202ec')).toBe('a b c');
    expect(bound({ a: 1 })).toBe('{"a":1}');
  });
});
