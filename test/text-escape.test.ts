// escapeControl: outside text never reaches a terminal as instructions.
import { describe, expect, it } from 'vitest';
import { escapeControl } from '../src/text/escape.js';

describe('escapeControl', () => {
  it('shows escape sequences, bells, carriage returns and bidi overrides as text', () => {
    expect(escapeControl('\u001b]0;pwned\u0007\u001b[2Jok\r\n')).toBe('\\e]0;pwned\\x07\\e[2Jok\\r\\n');
    expect(escapeControl('a\u009bb\u007fc\u202ed')).toBe('a\\x9bb\\x7fc\\u202ed');
    expect(escapeControl('tab\there')).toBe('tab\\there');
  });
  it('keeps newlines and tabs when asked, and leaves ordinary text alone', () => {
    expect(escapeControl('line 1\n\tline 2\u001b[2J', { keepLines: true })).toBe('line 1\n\tline 2\\e[2J');
    expect(escapeControl('Ünïcödé – fine ✓')).toBe('Ünïcödé – fine ✓');
  });
});
