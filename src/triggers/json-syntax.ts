/**
 * Where JSON text goes wrong. `JSON.parse` decides whether a body is JSON; its messages do not
 * always say where the fault is (V8 gives a position for some errors and only a quote of the
 * text for others, and the wording changes between Node versions), so a rejected body is
 * scanned again here to find the first offending character. The scan keeps its own stack and
 * never recurses, so a body nested a million levels deep is located like any other.
 */

/** The first syntax error in a JSON text: 0-based offset, 1-based line and column, and what was expected there. */
export interface JsonSyntaxError {
  readonly position: number;
  readonly line: number;
  readonly column: number;
  readonly expected: string;
  /** The character found there, or undefined at the end of the text. */
  readonly found: string | undefined;
}

const LITERALS = ['true', 'false', 'null'] as const;
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);

/** The first syntax error in `text` by the grammar of RFC 8259, or undefined when it is valid JSON. */
export function locateJsonError(text: string): JsonSyntaxError | undefined {
  const at = scan(text);
  if (at === undefined) return undefined;
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < at.position; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  const found = at.position < text.length ? String.fromCodePoint(text.codePointAt(at.position)!) : undefined;
  return { position: at.position, line, column: at.position - lineStart + 1, expected: at.expected, found };
}

function scan(s: string): { position: number; expected: string } | undefined {
  let i = 0;
  const containers: ('{' | '[')[] = [];
  const fail = (expected: string) => ({ position: i, expected });
  const skipSpace = () => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r')) i++;
  };
  const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

  // A string starting at s[i] === '"'; returns an error or undefined with i past the quote.
  const string = () => {
    i++;
    for (;;) {
      if (i >= s.length) return fail('a closing `"`');
      const c = s[i]!;
      if (c === '"') {
        i++;
        return undefined;
      }
      if (c === '\\') {
        i++;
        const e = s[i];
        if (e === 'u') {
          for (let k = 1; k <= 4; k++) {
            i++;
            if (!/^[0-9a-fA-F]$/.test(s[i] ?? '')) return fail('four hex digits after `\\u`');
          }
          i++;
        } else if (e !== undefined && ESCAPES.has(e)) {
          i++;
        } else {
          return fail('an escape: one of \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX');
        }
        continue;
      }
      if (c.charCodeAt(0) < 0x20) return fail('no control character in a string (escape it)');
      i++;
    }
  };
  const number = () => {
    if (s[i] === '-') i++;
    if (s[i] === '0') i++;
    else if (isDigit(s[i])) while (isDigit(s[i])) i++;
    else return fail('a digit');
    if (s[i] === '.') {
      i++;
      if (!isDigit(s[i])) return fail('a digit after `.`');
      while (isDigit(s[i])) i++;
    }
    if (s[i] === 'e' || s[i] === 'E') {
      i++;
      if (s[i] === '+' || s[i] === '-') i++;
      if (!isDigit(s[i])) return fail('a digit in the exponent');
      while (isDigit(s[i])) i++;
    }
    return undefined;
  };
  // A property name and its colon, leaving i at the value.
  const key = () => {
    skipSpace();
    if (s[i] !== '"') return fail('a property name in double quotes');
    const e = string();
    if (e) return e;
    skipSpace();
    if (s[i] !== ':') return fail('`:` after the property name');
    i++;
    return undefined;
  };

  let wantValue = true;
  for (;;) {
    skipSpace();
    if (wantValue) {
      const c = s[i];
      let e: { position: number; expected: string } | undefined;
      if (c === '{' || c === '[') {
        i++;
        skipSpace();
        if (s[i] === (c === '{' ? '}' : ']')) {
          i++;
          wantValue = false;
          continue;
        }
        containers.push(c);
        if (c === '{') e = key();
      } else if (c === '"') {
        e = string();
        wantValue = false;
      } else if (c === '-' || isDigit(c)) {
        e = number();
        wantValue = false;
      } else {
        const literal = LITERALS.find((l) => l[0] === c);
        if (!literal) return fail('a value');
        for (const ch of literal) {
          if (s[i] !== ch) return fail(`\`${literal}\``);
          i++;
        }
        wantValue = false;
      }
      if (e) return e;
      continue;
    }
    const top = containers[containers.length - 1];
    if (top === undefined) return i < s.length ? fail('the end of the text') : undefined;
    if (s[i] === ',') {
      i++;
      if (top === '{') {
        const e = key();
        if (e) return e;
      }
      wantValue = true;
    } else if (s[i] === (top === '{' ? '}' : ']')) {
      i++;
      containers.pop();
    } else {
      return fail(top === '{' ? '`,` or `}`' : '`,` or `]`');
    }
  }
}
