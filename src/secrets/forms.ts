/**
 * The forms a secret takes on its way out of flux, as regular-expression sources for the masker.
 * Two families:
 * - character-wise encodings (percent-encoding in either hex case, once or nested, `+` for a
 *   space, JSON escapes including `\u00e9` for non-ASCII and `\/`, nested JSON escaping, HTML
 *   entities):
 *   each character of the secret may appear as itself or in any of these forms, so one pattern
 *   per secret covers every mix an encoder, or a chain of encoders, produces;
 * - byte-wise encodings (hex, base64, base64url) of the secret and of its character-wise
 *   encoded texts: literal strings. Base64 of a longer text depends on the secret's byte offset
 *   mod 3, so there is one fragment per alignment: the characters fully determined by the
 *   secret's bytes, whatever surrounds it.
 * The masker matches everything case-insensitively (see masker.ts for why).
 */
import { domainToASCII } from 'node:url';

/** One alternative of the masker's pattern. */
export interface Form {
  /** Regular-expression source (no flags; matched with `gi`). */
  readonly source: string;
  /**
   * The fewest characters the form matches (a value's characters are never encoded shorter).
   * Also the sort key: longer forms are tried first, so a form is never half-masked by a shorter one.
   */
  readonly length: number;
  /** For base64 fragments: the alphabet their neighbours are in (see Masker.mask). */
  readonly base64?: 'std' | 'url';
  /** For literal forms: the text itself, so a match can be recognised. */
  readonly literal?: string;
}

/** Below this many bytes, base64 fragments at offsets 1 and 2 are too short to be told from noise. */
export const MIN_OFFSET_BASE64_BYTES = 6;

/** Values shorter than this are masked as is only: their encodings would garble ordinary text. */
export const MIN_ENCODED_LENGTH = 3;

/** Every form of one secret value. */
export function formsOf(value: string): Form[] {
  if (value.length < MIN_ENCODED_LENGTH) return [literal(value)];
  const forms: Form[] = [{ source: charwisePattern(value), length: value.length }];
  // Some case mappings escape the `i` flag: those that change a string's length (ß → SS) and
  // those that cross from non-ASCII to ASCII (the Kelvin sign's lowercase is k).
  const caseless = new RegExp(`^${escapeRegExp(value)}$`, 'i');
  for (const folded of [value.toLowerCase(), value.toUpperCase()]) if (!caseless.test(folded)) forms.push(literal(folded));
  // A secret used as a host name label is lowercased and, if not ASCII, punycoded by the URL parser.
  const host = /[^\x00-\x7f]/.test(value) ? domainToASCII(value) : '';
  if (host !== '') forms.push(literal(host));
  // encodeURIComponent throws on a lone surrogate; encoders write U+FFFD for it.
  const wellFormed = value.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
  for (const text of new Set([value, encodeURIComponent(wellFormed), new URLSearchParams({ v: value }).toString().slice(2), jsonInner(value), asciiJsonInner(value)])) {
    const bytes = Buffer.from(text, 'utf8');
    forms.push(literal(bytes.toString('hex')));
    for (const fragment of base64Fragments(bytes)) {
      forms.push({ ...literal(fragment), base64: 'std' });
      const url = fragment.replace(/\+/g, '-').replace(/\//g, '_');
      if (url !== fragment) forms.push({ ...literal(url), base64: 'url' });
    }
  }
  return dedupe(forms);
}

/**
 * The base64 characters fully determined by `bytes` when they sit at byte offset 0, 1 and 2
 * (mod 3) of a longer text. Character j of an encoding covers bits [6j, 6j+6); it is the
 * secret's alone when those bits lie inside the secret's bits [8p, 8p+8n).
 */
export function base64Fragments(bytes: Buffer): string[] {
  const out: string[] = [];
  for (let p = 0; p < 3; p++) {
    if (p > 0 && bytes.length < MIN_OFFSET_BASE64_BYTES) break;
    const encoded = Buffer.concat([Buffer.alloc(p), bytes]).toString('base64');
    const fragment = encoded.slice(Math.ceil((8 * p) / 6), Math.floor((8 * (p + bytes.length)) / 6));
    if (fragment.length >= 4) out.push(fragment);
  }
  return out;
}

/** Characters no encoder flux knows of ever escapes; they only appear as themselves. */
const PLAIN = /^[A-Za-z0-9]$/;

const HTML_NAMED: Readonly<Record<string, string>> = { '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' };

const JSON_SHORT: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', '\b': 'b', '\f': 'f', '\n': 'n', '\r': 'r', '\t': 't' };

/**
 * One backslash, or any run of them (JSON inside JSON doubles them), possibly percent-encoded
 * (a JSON text inside a query string).
 */
const BACKSLASHES = '(?:\\\\|%5c)+';

function charwisePattern(value: string): string {
  let source = '';
  for (const c of value) {
    if (PLAIN.test(c)) {
      source += c;
      continue;
    }
    const alternatives = new Set<string>([escapeRegExp(c)]);
    // Percent-encoded once or more (a URL inside a URL: `%40`, `%2540`).
    alternatives.add([...Buffer.from(c, 'utf8')].map((b) => `%(?:25)*${hex2(b)}`).join(''));
    if (c === ' ') alternatives.add('\\+|%(?:25)*2B');
    if (c === '\\') alternatives.add(BACKSLASHES);
    const short = JSON_SHORT[c];
    if (short !== undefined && c !== '\\') alternatives.add(`${BACKSLASHES}${escapeRegExp(short)}`);
    alternatives.add(unicodeEscapes(c));
    const code = c.codePointAt(0) ?? 0;
    const named = HTML_NAMED[c];
    if (named !== undefined) alternatives.add(`&${named};`);
    alternatives.add(`&#0*${code};`);
    alternatives.add(`&#x0*${code.toString(16)};`);
    source += `(?:${[...alternatives].join('|')})`;
  }
  return source;
}

/** `\uXXXX` per UTF-16 unit, as JSON encoders that keep output ASCII write it. */
function unicodeEscapes(c: string): string {
  let out = '';
  for (let i = 0; i < c.length; i++) out += `${BACKSLASHES}u${c.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return out;
}

function jsonInner(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}

/** JSON as Python's json.dumps, Go's encoding/json or PHP write it: non-ASCII as \u escapes. */
function asciiJsonInner(value: string): string {
  return jsonInner(value).replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function literal(text: string): Form {
  return { source: escapeRegExp(text), length: text.length, literal: text };
}

function dedupe(forms: Form[]): Form[] {
  const seen = new Map<string, Form>();
  // By exact source: the regex's case-insensitivity is not toLowerCase's (astral letters).
  for (const f of forms) if (f.source !== '' && !seen.has(f.source)) seen.set(f.source, f);
  return [...seen.values()];
}

function hex2(b: number): string {
  return b.toString(16).toUpperCase().padStart(2, '0');
}

/** Escapes text for use as a literal inside a regular expression. */
function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
