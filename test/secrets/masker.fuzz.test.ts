// Property-based guard on the masker: for any secret, any form flux promises to mask, anywhere
// in any text, the masked text never contains that form; masking never throws, is idempotent,
// and leaves text alone that holds no form of a secret. The encodings are computed here, from
// the platform's encoders, not from the masker's own list of forms.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MASK, Masker, MIN_SECRET_LENGTH } from '../../src/secrets/masker.js';

/** A few hundred cases per property: a few seconds in all. */
const RUNS = { numRuns: 200 };

/** Secrets: printable ASCII, any Unicode (astral, combining, controls), and mixes of both. */
const secretArb = fc.oneof(
  fc.string({ unit: 'grapheme-ascii', minLength: MIN_SECRET_LENGTH, maxLength: 24 }),
  fc.string({ unit: 'grapheme', minLength: MIN_SECRET_LENGTH, maxLength: 12 }),
  fc.string({ unit: 'binary', minLength: MIN_SECRET_LENGTH, maxLength: 12 }),
  fc.string({ unit: fc.oneof(fc.constantFrom(' ', '"', '\\', '/', '+', '%', '&', '<', "'", '=', ':', '*', 'é', 'ß', '😀'), fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 })), minLength: MIN_SECRET_LENGTH, maxLength: 16 }),
);

/** Surrounding text: anything, including text that looks like an encoding itself. */
const textArb = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 20 }), fc.base64String({ maxLength: 24 }), fc.stringMatching(/^[0-9a-f]{0,24}$/));

/** How the WHATWG URL parser writes a value into a query string (it leaves ' / + & = alone). */
function urlParserQuery(s: string): string {
  const url = new URL('http://x/');
  url.search = `?${s}`;
  return url.search.slice(1);
}

function percentLower(s: string): string {
  return s.replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase());
}

function asciiJson(s: string): string {
  return JSON.stringify(s).slice(1, -1).replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function html(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** The character-wise forms flux promises to mask, by name. */
function textForms(secret: string) {
  const url = encodeURIComponent(secret);
  return {
    raw: secret,
    lower: secret.toLowerCase(),
    upper: secret.toUpperCase(),
    url,
    urlLowerHex: percentLower(url),
    urlPlus: url.replace(/%20/g, '+'),
    form: new URLSearchParams({ v: secret }).toString().slice(2),
    urlTwice: encodeURIComponent(new URLSearchParams({ v: secret }).toString().slice(2)),
    urlParserQuery: urlParserQuery(secret),
    json: JSON.stringify(secret).slice(1, -1),
    jsonAscii: asciiJson(secret),
    jsonInJson: JSON.stringify(JSON.stringify(secret).slice(1, -1)).slice(1, -1),
    html: html(secret),
  };
}

/** The texts whose bytes flux promises to mask as hex and base64: the secret and its URL and JSON forms. */
function byteSources(secret: string): string[] {
  const t = textForms(secret);
  return [t.raw, t.url, t.form, t.json, t.jsonAscii];
}

/** The base64 characters of `before + source + after` that `source`'s bytes alone determine. */
function determined(before: Buffer, source: Buffer, after: Buffer, alphabet: 'base64' | 'base64url'): string {
  const encoded = Buffer.concat([before, source, after]).toString(alphabet);
  return encoded.slice(Math.ceil((8 * before.length) / 6), Math.floor((8 * (before.length + source.length)) / 6));
}

function maskerFor(...secrets: string[]): Masker {
  const m = new Masker();
  for (const s of secrets) m.add(s);
  return m;
}

describe('Masker properties', () => {
  it('never shows a character-wise form of a secret, wherever it sits in any text', () => {
    fc.assert(
      fc.property(secretArb, fc.constantFrom(...Object.keys(textForms('x'))), textArb, textArb, (secret, name, before, after) => {
        const form = (textForms(secret) as Record<string, string>)[name]!;
        // The URL parser drops tabs and newlines: what it writes is then another value.
        fc.pre(form !== '' && !(name === 'urlParserQuery' && /[\t\n\r]/.test(secret)));
        const out = maskerFor(secret).mask(`${before}${form}${after}`);
        expect(out.includes(form), `${name} ${JSON.stringify(form)} in ${JSON.stringify(out)}`).toBe(false);
      }),
      RUNS,
    );
  });

  it('never shows hex of a secret in either case, alone or inside a longer hex text', () => {
    fc.assert(
      fc.property(secretArb, fc.nat({ max: 4 }), fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ maxLength: 8 }), fc.boolean(), textArb, (secret, which, pre, post, upper, around) => {
        const source = Buffer.from(byteSources(secret)[which]!, 'utf8');
        let blob = Buffer.concat([pre, source, post]).toString('hex');
        let hex = source.toString('hex');
        if (upper) [blob, hex] = [blob.toUpperCase(), hex.toUpperCase()];
        const out = maskerFor(secret).mask(`${around}${blob}${around}`);
        expect(out.includes(hex), `${hex} in ${out}`).toBe(false);
      }),
      RUNS,
    );
  });

  it('never shows the base64 or base64url of a secret at any byte offset of a longer text', () => {
    fc.assert(
      fc.property(secretArb, fc.nat({ max: 4 }), fc.uint8Array({ maxLength: 9 }), fc.uint8Array({ maxLength: 9 }), fc.constantFrom('base64' as const, 'base64url' as const), textArb, textArb, (secret, which, pre, post, alphabet, before, after) => {
        const source = Buffer.from(byteSources(secret)[which]!, 'utf8');
        // Promised: offset 0 (mod 3) from 4 bytes on, every offset from 6 bytes on.
        fc.pre(pre.length % 3 === 0 || source.length >= 6);
        const form = determined(Buffer.from(pre), source, Buffer.from(post), alphabet);
        const blob = Buffer.concat([pre, source, post]).toString(alphabet);
        const out = maskerFor(secret).mask(`${before}${blob}${after}`);
        expect(out.includes(form), `${form} in ${out}`).toBe(false);
      }),
      RUNS,
    );
  });

  it('is idempotent and never throws, for any values (short, starred, ill-formed) and any text', () => {
    const anyString = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 8 }), fc.stringMatching(/^[*a-c\\%"]{0,8}$/), fc.constant('\ud800x\udc00y'));
    fc.assert(
      fc.property(fc.array(anyString, { maxLength: 4 }), fc.array(anyString, { maxLength: 4 }), (secrets, parts) => {
        const m = maskerFor(...secrets);
        const text = parts.join(secrets[0] ?? '');
        const once = m.mask(text);
        expect(m.mask(once)).toBe(once);
        for (const s of secrets) if (s.length >= 3 && s !== MASK) expect(once.includes(s), `${JSON.stringify(s)} in ${JSON.stringify(once)}`).toBe(false);
        expect(() => m.maskValue({ [text]: [text, 1, null, { x: text }] }, { keys: true })).not.toThrow();
      }),
      RUNS,
    );
  });

  it('leaves text alone that shares no character with the secret, and never touches plain keys', () => {
    fc.assert(
      fc.property(secretArb, fc.string({ maxLength: 60 }), (secret, text) => {
        const folded = new Set([...secret.toLowerCase(), ...secret.toUpperCase(), ...secret]);
        const unrelated = [...text].filter((c) => !folded.has(c) && !folded.has(c.toLowerCase()) && !folded.has(c.toUpperCase()) && !'%&\\+'.includes(c)).join('');
        // Hex and base64 forms are made of characters the secret may not have: keep them out.
        fc.pre(!/[0-9A-Za-z]{4}/.test(unrelated));
        const m = maskerFor(secret);
        expect(m.mask(unrelated)).toBe(unrelated);
        expect(m.maskValue({ [secret]: unrelated })).toEqual({ [secret]: unrelated });
      }),
      RUNS,
    );
  });
});
