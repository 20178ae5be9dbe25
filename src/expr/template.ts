/**
 * Templates: strings that hold `${{ ... }}` expressions. A string that is exactly one expression
 * keeps the expression's type when evaluated; any other string is interpolated.
 */

export interface ExpressionPart {
  readonly kind: 'expr';
  /** The CEL source between `${{` and `}}`, trimmed. */
  readonly source: string;
  /** Offset of `source` within the template string. */
  readonly offset: number;
}
export interface TextPart {
  readonly kind: 'text';
  readonly text: string;
}
export type TemplatePart = ExpressionPart | TextPart;

export interface Template {
  readonly parts: readonly TemplatePart[];
  /** True when the whole string (ignoring surrounding white space) is one expression. */
  readonly whole: boolean;
  /** An unterminated `${{`, with the offset of its opening. */
  readonly error?: { readonly offset: number; readonly message: string };
}

const OPEN = '${{';

/** An expression as messages quote it: whole when short, cut with an ellipsis when long. */
export function quoteSource(source: string, max = 80): string {
  const flat = source.replace(/\s+/g, ' ');
  return `\`${flat.length > max ? `${flat.slice(0, max - 1)}…` : flat}\``;
}

/** Quick test used on hot paths before parsing. */
export function hasExpression(text: string): boolean {
  return text.includes(OPEN);
}

/** Splits a string into text and expression parts. */
export function parseTemplate(text: string): Template {
  const parts: TemplatePart[] = [];
  let at = 0;
  while (at < text.length) {
    const open = text.indexOf(OPEN, at);
    if (open === -1) {
      parts.push({ kind: 'text', text: text.slice(at) });
      break;
    }
    if (open > at) parts.push({ kind: 'text', text: text.slice(at, open) });
    const bodyStart = open + OPEN.length;
    const close = findClose(text, bodyStart);
    if (close === -1) {
      return { parts, whole: false, error: { offset: open, message: 'unterminated expression: `${{` has no closing `}}`' } };
    }
    const raw = text.slice(bodyStart, close);
    const lead = raw.length - raw.trimStart().length;
    parts.push({ kind: 'expr', source: raw.trim(), offset: bodyStart + lead });
    at = close + 2;
  }
  const meaningful = parts.filter((p) => p.kind === 'expr' || p.text.trim() !== '');
  return { parts, whole: meaningful.length === 1 && meaningful[0]!.kind === 'expr' };
}

/** Finds the `}}` that closes an expression, skipping braces and quotes inside the CEL source. */
function findClose(text: string, from: number): number {
  let depth = 0;
  let quote: string | null = null;
  for (let i = from; i < text.length; i++) {
    const c = text[i]!;
    if (quote !== null) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '{') depth++;
    else if (c === '}') {
      if (depth === 0 && text[i + 1] === '}') return i;
      if (depth > 0) depth--;
    }
  }
  return -1;
}
