/**
 * Terminal layout without colour codes in the way: a line is a list of styled segments, laid
 * out and measured as plain text (columns counted the way terminals count them, wide CJK and
 * emoji as two), cut to the width with an ellipsis, and only then painted. So a colour code
 * never counts toward a width and a cut never splits one.
 */

/** What a segment means; a Painter decides what that looks like (or nothing, without colour). */
export type Style = 'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'alarm';

/** A run of text in one style. */
export interface Segment {
  readonly text: string;
  readonly style?: Style | undefined;
}

/** One output line. */
export type Line = readonly Segment[];

/** Turns a style into terminal output: chalk when colour is on, identity when it is off. */
export type Painter = Readonly<Record<Style, (text: string) => string>>;

/** A segment. */
export function seg(text: string, style?: Style): Segment {
  return { text, style };
}

// Combining marks, zero-width joiners and variation selectors take no column.
const ZERO = /^[\p{Mn}\p{Me}\u200b-\u200f\u2060\ufe00-\ufe0f]$/u;

function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

function charWidth(ch: string): number {
  if (ZERO.test(ch)) return 0;
  return isWide(ch.codePointAt(0) ?? 0) ? 2 : 1;
}

/** Columns a string takes in a terminal (it holds no control characters: they are escaped first). */
export function displayWidth(text: string): number {
  let w = 0;
  for (const ch of text) w += charWidth(ch);
  return w;
}

/** Cuts text to at most `width` columns, ending in an ellipsis when anything was cut. */
export function truncate(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  if (width <= 0) return '';
  return `${prefix(text, width - 1)}…`;
}

/** The longest start of `text` that fits in `width` columns. */
function prefix(text: string, width: number): string {
  let out = '';
  let w = 0;
  for (const ch of text) {
    const cw = charWidth(ch);
    if (w + cw > width) break;
    out += ch;
    w += cw;
  }
  return out;
}

/** Text cut to `width` and padded to exactly that many columns, on the left for numbers. */
export function align(text: string, width: number, side: 'left' | 'right'): string {
  const cut = truncate(text, width);
  const pad = ' '.repeat(Math.max(0, width - displayWidth(cut)));
  return side === 'right' ? pad + cut : cut + pad;
}

/**
 * Word-wraps text to `width` columns; lines after the first start with `indent` spaces. A word
 * longer than a line is left for the final cut to shorten.
 */
export function wrap(text: string, width: number, indent: number): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(' ')) {
    const room = width - (lines.length === 0 ? 0 : indent);
    if (current !== '' && displayWidth(current) + 1 + displayWidth(word) > room) {
      lines.push(current);
      current = word;
    } else {
      current = current === '' ? word : `${current} ${word}`;
    }
  }
  lines.push(current);
  return lines.map((l, i) => (i === 0 ? l : ' '.repeat(indent) + l));
}

/** Cuts a line to `width` columns (the last segment that fits ends in an ellipsis). */
export function fitLine(line: Line, width: number): Line {
  let total = 0;
  for (const s of line) total += displayWidth(s.text);
  if (total <= width) return line;
  const out: Segment[] = [];
  let used = 0;
  for (const s of line) {
    const w = displayWidth(s.text);
    if (used + w <= width - 1) {
      out.push(s);
      used += w;
      continue;
    }
    // Something is cut here, so the ellipsis is owed even when this segment itself would fit.
    if (width - used > 0) out.push(seg(`${prefix(s.text, width - used - 1)}…`, s.style));
    break;
  }
  return out;
}

/** Lays the lines out at `width` and paints them into the final text. */
export function render(lines: readonly Line[], width: number, painter: Painter): string {
  const text = lines.map((line) =>
    trimEnd(fitLine(line, width))
      .map((s) => (s.style && s.text !== '' ? painter[s.style](s.text) : s.text))
      .join(''),
  );
  return `${text.join('\n')}\n`;
}

/** Drops trailing blanks before painting, so no line ends in painted padding. */
function trimEnd(line: Line): Line {
  const out = [...line];
  while (out.length > 0) {
    const last = out[out.length - 1]!;
    const text = last.text.trimEnd();
    if (text !== '') {
      out[out.length - 1] = seg(text, last.style);
      break;
    }
    out.pop();
  }
  return out;
}
