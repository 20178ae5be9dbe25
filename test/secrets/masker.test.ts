// The masker, case by case: each form a hostile probe got through, and the promises that keep
// masking from garbling or measuring what it hides. The fuzz test holds the same promises for
// arbitrary values and surroundings.
import { describe, expect, it } from 'vitest';
import { base64Fragments } from '../../src/secrets/forms.js';
import { MASK, Masker } from '../../src/secrets/masker.js';

function masker(...values: string[]): Masker {
  const m = new Masker();
  for (const v of values) m.add(v);
  return m;
}

const SECRET = 'p@ss "wörd"/+&=tok';

describe('Masker: forms', () => {
  it('masks hex in either case, alone and inside a longer hex text', () => {
    const m = masker('deadbeefCafe42');
    const hex = Buffer.from('deadbeefCafe42').toString('hex');
    expect(m.mask(`echo ${hex} end`)).toBe(`echo ${MASK} end`);
    expect(m.mask(`echo ${hex.toUpperCase()} end`)).toBe(`echo ${MASK} end`);
    const blob = Buffer.from(`{"token":"deadbeefCafe42"}`).toString('hex').toUpperCase();
    expect(m.mask(blob)).not.toContain(hex.toUpperCase());
  });

  it('masks a value the URL parser lowercased in a host name, and any other case-folding', () => {
    const m = masker('AcmeCorp123');
    const host = new URL('https://AcmeCorp123.example.com/').host;
    expect(m.mask(`cannot reach https://${host}: host not found`)).toBe(`cannot reach https://${MASK}.example.com: host not found`);
    expect(m.mask('ACMECORP123 and aCmEcOrP123')).toBe(`${MASK} and ${MASK}`);
    // Case mappings that change length escape a case-insensitive match; they are listed forms.
    expect(masker('Straße-42x').mask('STRASSE-42X')).toBe(MASK);
  });

  it('masks a non-ASCII value used as a host name label, as the URL parser punycodes it', () => {
    const m = masker('Müller-Tenant');
    const host = new URL('https://Müller-Tenant.example.com/').host;
    expect(m.mask(host)).toBe(`${MASK}.example.com`);
  });

  it('masks base64 and base64url of a longer text at every byte offset of the value', () => {
    const m = masker(SECRET);
    for (const before of ['', 'u', 'us', 'svc-user:', 'svc-user1:']) {
      for (const after of ['', 'x', '\u0000\u00ff']) {
        const bytes = Buffer.from(`${before}${SECRET}${after}`);
        for (const encoded of [bytes.toString('base64'), bytes.toString('base64url')]) {
          const out = m.mask(`Basic ${encoded}`);
          expect(out, `${before}|${after}`).toContain(MASK);
          // What is left decodes, at any alignment, to no run of the value's inner bytes.
          for (const part of out.slice('Basic '.length).split(MASK)) {
            for (let shift = 0; shift < 4; shift++) expect(Buffer.from(part.slice(shift), 'base64').includes(Buffer.from('ss "w'))).toBe(false);
          }
        }
      }
    }
  });

  it('masks percent-encoding in both hex cases and both space forms, and mixed encoders', () => {
    const m = masker(SECRET);
    const upper = encodeURIComponent(SECRET);
    const lower = upper.replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase());
    for (const form of [upper, lower, upper.replace(/%20/g, '+'), new URLSearchParams({ v: SECRET }).toString().slice(2), new URL(`http://x/?${SECRET}`).search.slice(1)]) {
      expect(m.mask(`?k=${form}&n=1`), form).toBe(`?k=${MASK}&n=1`);
    }
    // A URL inside a URL: percent-encoded twice.
    const twice = encodeURIComponent(new URLSearchParams({ v: SECRET }).toString().slice(2));
    expect(m.mask(`next=${twice}`)).toBe(`next=${MASK}`);
  });

  it('masks JSON escapes: \\u00xx for non-ASCII, \\/ for a slash, JSON inside JSON', () => {
    const m = masker(SECRET);
    const ascii = JSON.stringify(SECRET).slice(1, -1).replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    expect(m.mask(`{"t":"${ascii}"}`)).toBe(`{"t":"${MASK}"}`);
    expect(m.mask(`{"t":"${ascii.replace(/\//g, '\\/').toUpperCase().replace(/\\U/g, '\\u')}"}`)).toBe(`{"t":"${MASK}"}`);
    expect(m.mask(JSON.stringify(JSON.stringify({ t: SECRET })))).toBe(JSON.stringify(JSON.stringify({ t: MASK })));
    const emoji = masker('key-😀-1234');
    expect(emoji.mask(JSON.stringify('key-😀-1234').replace('😀', '\\ud83d\\ude00'))).toBe(`"${MASK}"`);
  });

  it('masks HTML-escaped values, as an error page would show them', () => {
    const m = masker(`a<b>&'c"d`);
    expect(m.mask('<p>bad token a&lt;b&gt;&amp;&#39;c&quot;d</p>')).toBe(`<p>bad token ${MASK}</p>`);
    expect(m.mask('a&#x3C;b&#62;&amp;&#x27;c&#34;d')).toBe(MASK);
  });
});

describe('Masker: what it shows', () => {
  it('shows neither a length nor a count: side-by-side matches are one mask', () => {
    const m = masker('s3cret-token', 'other-value');
    expect(m.mask('s3cret-tokens3cret-token')).toBe(MASK);
    expect(m.mask('s3cret-tokenother-value!')).toBe(`${MASK}!`);
  });

  it('masks overlapping values whole: the first match does not hide the rest of the second', () => {
    const m = masker('key-abcd', 'abcd-rest');
    expect(m.mask('[key-abcd-rest]')).toBe(`[${MASK}]`);
  });

  it("widens a base64 match over the characters that carry the value's edge bits and padding", () => {
    const m = masker('s3cret-token');
    // Alone, the whole encoding goes, padding included, which would tell the length mod 3.
    expect(m.mask(`=${Buffer.from('s3cret-token!').toString('base64')}=`)).toBe(`=${MASK}=`);
    // Inside a longer encoding, the characters that mix the value's bits with its neighbours' go too.
    const blob = Buffer.from(`xxxxxxxxx-s3cret-token-yyyyyyyyy`).toString('base64');
    // The value's bits are [80, 176): characters 14 to 28 are its own, 13 and 29 are mixed.
    expect(m.mask(blob)).toBe(`${blob.slice(0, 11)}${MASK}${blob.slice(32)}`);
    for (const fragment of base64Fragments(Buffer.from('s3cret-token'))) expect(fragment.length).toBeGreaterThanOrEqual(8);
  });

  it('leaves ordinary text and flux-looking text alone when no value is in it', () => {
    const m = masker('s3cret-token', SECRET);
    const text = 'run 01J8 succeeded in 1.2s; step fetch_contacts HTTP 200 {"ok":true} ✓ Ünïcödé';
    expect(m.mask(text)).toBe(text);
    expect(m.maskValue({ 's3cret-token': 's3cret-token' })).toEqual({ 's3cret-token': MASK });
    // A hostile body's `__proto__` key stays a key, and sets no prototype on the copy.
    const copy = m.maskValue(JSON.parse('{"__proto__":{"polluted":"s3cret-token"},"ok":1}') as Record<string, unknown>, { keys: true });
    expect(Object.keys(copy)).toEqual(['__proto__', 'ok']);
    expect(JSON.stringify(copy)).toBe('{"__proto__":{"polluted":"***"},"ok":1}');
    expect((copy as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('is idempotent, and never lets a mask join its neighbours into another value', () => {
    const m = masker('**tail', 'head-value');
    // The first pass leaves `***tail`, which holds `**tail`.
    expect(m.mask('head-valuetail')).not.toContain('**tail');
    for (const text of ['head-valuetail', 'x head-value y **tail', '**tail**tail']) expect(m.mask(m.mask(text))).toBe(m.mask(text));
  });

  it('clips after masking, so a cut never leaves the first part of a value', () => {
    const m = masker('s3cret-token');
    const text = `${'x'.repeat(10)}s3cret-token`;
    expect(m.clip(text, 16)).toBe(`${'x'.repeat(10)}${MASK}`);
    expect(m.clip(text, 11)).toBe(`${'x'.repeat(10)}*`);
  });
});
