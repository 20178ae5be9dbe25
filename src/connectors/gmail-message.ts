/**
 * The RFC 2822 (MIME) message Gmail's API takes as `raw`, built from plain fields: address
 * headers, a subject (RFC 2047 encoded-words when it is not ASCII), and a text body, an HTML
 * body or both (multipart/alternative), each UTF-8 in base64. A line break in any header
 * value would let a value add headers of its own (a Bcc nobody asked for), so it is refused.
 */
import { createHash } from 'node:crypto';
import { HttpFailure } from './http-failure.js';
import { clipText } from './vendor-text.js';

/** What a message is built from; addresses are one or a list. */
export interface MessageFields {
  readonly to?: unknown;
  readonly cc?: unknown;
  readonly bcc?: unknown;
  readonly from?: unknown;
  readonly reply_to?: unknown;
  readonly subject?: unknown;
  readonly text?: unknown;
  readonly html?: unknown;
}

const ADDRESS_HEADERS = [['from', 'From'], ['to', 'To'], ['cc', 'Cc'], ['bcc', 'Bcc'], ['reply_to', 'Reply-To']] as const;
// CR, LF and NUL end or corrupt a header line; U+2028/2029 are line breaks to some readers.
const LINE_BREAK = /[\r\n\0\u2028\u2029]/;

/** The message as text (CRLF line ends), ready to be base64url-encoded. */
export function buildMessage(f: MessageFields): string {
  const headers: string[] = [];
  for (const [field, header] of ADDRESS_HEADERS) {
    const list = addresses(f[field], field);
    if (list.length > 0) headers.push(`${header}: ${list.join(', ')}`);
  }
  if (f.subject !== undefined && f.subject !== null) headers.push(`Subject: ${encodeHeaderText(headerText(f.subject, 'subject'))}`);
  headers.push('MIME-Version: 1.0');
  const text = f.text === undefined || f.text === null ? undefined : String(f.text);
  const html = f.html === undefined || f.html === null ? undefined : String(f.html);
  if (text === undefined && html === undefined) throw new HttpFailure('give `text`, `html` or both', false);
  if (text !== undefined && html !== undefined) {
    // Parts are base64, whose alphabet has no `_`: the boundary cannot occur inside them.
    const boundary = `=_flux_${createHash('sha256').update(text).update('\0').update(html).digest('hex').slice(0, 24)}`;
    return [
      ...headers, `Content-Type: multipart/alternative; boundary="${boundary}"`, '',
      `--${boundary}`, ...part('text/plain', text), `--${boundary}`, ...part('text/html', html), `--${boundary}--`, '',
    ].join('\r\n');
  }
  return [...headers, ...part(text !== undefined ? 'text/plain' : 'text/html', (text ?? html)!)].join('\r\n');
}

/** Gmail's `raw`: the message in base64url, unpadded. */
export function rawMessage(f: MessageFields): string {
  return Buffer.from(buildMessage(f), 'utf8').toString('base64url');
}

function part(type: string, body: string): string[] {
  const encoded = Buffer.from(body, 'utf8').toString('base64').replace(/.{76}/g, '$&\r\n').replace(/\r\n$/, '');
  return [`Content-Type: ${type}; charset=UTF-8`, 'Content-Transfer-Encoding: base64', '', encoded, ''];
}

function headerText(value: unknown, field: string): string {
  if (typeof value !== 'string' && typeof value !== 'number') throw new HttpFailure(`field \`${field}\` must be text`, false);
  const text = String(value);
  if (LINE_BREAK.test(text)) throw new HttpFailure(`field \`${field}\` must not contain a line break (it would add headers to the message)`, false);
  return text;
}

function addresses(value: unknown, field: string): string[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((v) => {
    const address = headerText(v, field).trim();
    if (address === '') throw new HttpFailure(`field \`${field}\` has an empty address`, false);
    // Plain addresses only: a display name with a comma or quotes would need RFC 5322 quoting.
    if (!/^[^\s<>(),;:"@]+@[^\s<>(),;:"@]+$/.test(address)) throw new HttpFailure(`field \`${field}\`: "${clipText(address, 80)}" is not an email address`, false);
    return address;
  });
}

/**
 * A header value as it may stand in a message: ASCII text as it is, anything else as RFC 2047
 * encoded-words (UTF-8, base64), each at most 75 characters, on folded lines.
 */
export function encodeHeaderText(text: string): string {
  if (/^[\x20-\x7e]*$/.test(text)) return text;
  const words: string[] = [];
  let chunk = '';
  for (const ch of text) {
    // 45 bytes of UTF-8 are 60 of base64: with `=?UTF-8?B?` and `?=` the word stays within 75.
    if (Buffer.byteLength(chunk + ch, 'utf8') > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk !== '') words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join('\r\n ');
}
