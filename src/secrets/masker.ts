/**
 * Secret masking. Every resolved secret value, and every credential derived from one (a basic
 * auth header, an OAuth access token), is replaced by `***` wherever flux writes: terminal,
 * run log, error messages, dry-run output. Each value is masked in every form it can take on
 * the way out (forms.ts lists them): as is and in any letter case, percent-encoded, JSON- and
 * HTML-escaped, and as hex, base64 or base64url, alone or inside a longer encoded text.
 *
 * Matching ignores case for every form. A value can be case-folded on its way out (a host name
 * is lowercased by the URL parser; services echo tokens upper-cased; hex and percent-encoding
 * come in either case), and a case-folded secret is nearly as revealing as the secret. The
 * cost is nil for flux's own text, which is never masked, and negligible for outside text:
 * a match still needs every character of a value of at least 4 characters, in order.
 */
import { setData } from '../limits/json.js';
import { formsOf, type Form } from './forms.js';

/** What every form of a secret is replaced with: the same three characters, whatever the value. */
export const MASK = '***';

/** Shorter secret values cannot be masked without garbling ordinary text, so runs refuse them. */
export const MIN_SECRET_LENGTH = 4;

/** Alphabets of the base64 variants, to widen a fragment's match to the group around it. */
const ALPHABET = { std: /[A-Za-z0-9+/]/, url: /[A-Za-z0-9_-]/ } as const;

/** Characters of an encoding on each side of a base64 fragment that carry a few of its bits. */
const BASE64_EDGE = 3;

/** The run's secret values, and the masking of every text flux writes from outside data. */
export class Masker {
  private readonly values = new Set<string>();
  private readonly forms = new Map<string, Form>();
  private pattern: RegExp | undefined;
  /** The fewest characters any form matches: shorter strings (most JSON values) are skipped. */
  private shortest = Infinity;
  /** True once a value contains `*`, the mask's own character. */
  private starred = false;
  /** Base64 fragments by upper-cased text, to recognise a match as one. */
  private readonly base64 = new Map<string, 'std' | 'url'>();

  /** Adds a secret value and its encoded forms (a value shorter than 3 characters: as is only). */
  add(value: string): void {
    if (value === '' || this.values.has(value)) return;
    this.values.add(value);
    if (value.includes('*')) this.starred = true;
    for (const form of formsOf(value)) {
      const known = this.forms.get(form.source);
      if (known === undefined || form.length > known.length) this.forms.set(form.source, form);
      // A character-wise form matches at least one character per character of the value.
      this.shortest = Math.min(this.shortest, form.length);
      if (form.base64 && form.literal !== undefined) this.base64.set(form.literal.toUpperCase(), form.base64);
    }
    this.pattern = undefined;
  }

  /** True when there is nothing to mask. */
  get empty(): boolean {
    return this.values.size === 0;
  }

  /**
   * Masks a string: every span where a form of a value matches becomes `***`, so the output
   * shows neither a value's length, nor how many values were side by side, nor the edge bits of
   * a base64 fragment.
   */
  mask(text: string): string {
    if (text.length < this.shortest) return text;
    const once = this.maskOnce(text);
    if (!this.starred || once === text) return once;
    // A value with `*` in it could be completed by the `***` that replaced its neighbour. Each
    // round that changes the text shortens it or lessens its characters other than `*`, so
    // this ends; the bound only guards against a mistake in that reasoning.
    let current = once;
    for (let round = 0; round <= text.length; round++) {
      const next = this.maskOnce(current);
      if (next === current) return next;
      current = next;
    }
    return current;
  }

  /**
   * Masks, then cuts to at most `max` characters: cutting first could leave the first part of a
   * secret in the text, where no form of it matches any more.
   */
  clip(text: string, max: number): string {
    return this.mask(text).slice(0, Math.max(0, max));
  }

  /**
   * Masks every string inside a JSON value; returns a new value. Keys are masked too with
   * `keys: true`, for data from outside (a response body, an event), never for flux's own
   * records, whose keys must stay readable.
   */
  maskValue<T>(value: T, options: { keys?: boolean } = {}): T {
    if (this.values.size === 0) return value;
    return this.walk(value, options.keys === true) as T;
  }

  private maskOnce(text: string): string {
    const spans = this.spans(text);
    if (spans.length === 0) return text;
    let out = '';
    let last = 0;
    for (const [start, end] of spans) {
      out += `${text.slice(last, start)}${MASK}`;
      last = end;
    }
    return out + text.slice(last);
  }

  /**
   * The union of every match of every form, as sorted, disjoint, non-adjacent spans. The search
   * resumes one character after each match's start, not at its end: two values can overlap
   * (`abcd` and `cdef`), and masking only the first would show the rest of the second. Spans
   * that touch are merged, since side by side two masks would tell that two values were there.
   */
  private spans(text: string): [number, number][] {
    const re = this.compile();
    const spans: [number, number][] = [];
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      let start = m.index;
      let end = start + m[0].length;
      re.lastIndex = start + 1;
      if (end === start) continue;
      const alphabet = this.base64.get(m[0].toUpperCase());
      if (alphabet !== undefined) {
        // The characters next to a fragment mix a few of the value's bits with its neighbours',
        // and padding tells its length mod 3: they go too.
        const chars = ALPHABET[alphabet];
        for (let i = 0; i < BASE64_EDGE && start > 0 && chars.test(text[start - 1]!); i++) start--;
        for (let i = 0; i < BASE64_EDGE && end < text.length && chars.test(text[end]!); i++) end++;
        for (let i = 0; i < 2 && end < text.length && text[end] === '='; i++) end++;
      }
      let previous = spans.at(-1);
      while (previous !== undefined && start <= previous[1]) {
        spans.pop();
        start = Math.min(start, previous[0]);
        end = Math.max(end, previous[1]);
        previous = spans.at(-1);
      }
      spans.push([start, end]);
    }
    return spans;
  }

  private compile(): RegExp {
    if (!this.pattern) {
      // Longest first: the regex takes the first alternative that matches at a position.
      const sorted = [...this.forms.values()].sort((a, b) => b.length - a.length).map((f) => f.source);
      this.pattern = new RegExp(sorted.join('|'), 'gi');
    }
    return this.pattern;
  }

  private walk(value: unknown, keys: boolean): unknown {
    if (typeof value === 'string') return this.mask(value);
    if (Array.isArray(value)) return value.map((v) => this.walk(v, keys));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        const key = keys ? this.mask(k) : k;
        setData(out, key, this.walk(v, keys));
      }
      return out;
    }
    return value;
  }
}
