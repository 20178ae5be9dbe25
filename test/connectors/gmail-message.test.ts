// The RFC 2822 message Gmail sends: headers from the fields, encoded-word subjects, one part
// or multipart/alternative, base64url without padding, and line breaks in headers refused.
import { describe, expect, it } from 'vitest';
import { buildMessage, encodeHeaderText, rawMessage } from '../../src/connectors/gmail-message.js';

/** The body of a base64 MIME part, decoded. */
const decodePart = (lines: string): string => Buffer.from(lines.replace(/\r\n/g, ''), 'base64').toString('utf8');

describe('buildMessage', () => {
  it('writes address headers, subject and a text part, with CRLF line ends', () => {
    const m = buildMessage({ to: ['a@example.com', 'b@example.com'], cc: 'c@example.com', bcc: 'd@example.com', from: 'shop@example.com', reply_to: 'help@example.com', subject: 'Order 42', text: 'Hello\nthere' });
    const [head, body] = m.split('\r\n\r\n');
    expect(head!.split('\r\n')).toEqual([
      'From: shop@example.com', 'To: a@example.com, b@example.com', 'Cc: c@example.com', 'Bcc: d@example.com', 'Reply-To: help@example.com',
      'Subject: Order 42', 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=UTF-8', 'Content-Transfer-Encoding: base64',
    ]);
    expect(decodePart(body!)).toBe('Hello\nthere');
    expect(m.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  });

  it('sends text and html as multipart/alternative, the boundary outside both parts', () => {
    const m = buildMessage({ to: 'a@example.com', subject: 's', text: 'plain ünïcode', html: '<p>rich</p>' });
    const boundary = /boundary="([^"]+)"/.exec(m)![1]!;
    const parts = m.split(`--${boundary}`);
    expect(parts).toHaveLength(4);
    expect(parts[1]).toContain('Content-Type: text/plain; charset=UTF-8');
    expect(decodePart(parts[1]!.split('\r\n\r\n')[1]!)).toBe('plain ünïcode');
    expect(decodePart(parts[2]!.split('\r\n\r\n')[1]!)).toBe('<p>rich</p>');
    expect(parts[3]).toBe('--\r\n');
  });

  it('encodes a subject that is not ASCII as encoded-words of at most 75 characters', () => {
    const subject = 'Rechnung für Müller — 請求書 '.repeat(4);
    const encoded = encodeHeaderText(subject);
    const words = encoded.split('\r\n ');
    expect(words.length).toBeGreaterThan(1);
    for (const w of words) expect(w.length).toBeLessThanOrEqual(75);
    expect(words.map((w) => Buffer.from(/^=\?UTF-8\?B\?(.*)\?=$/.exec(w)![1]!, 'base64').toString('utf8')).join('')).toBe(subject);
    expect(encodeHeaderText('Plain ASCII')).toBe('Plain ASCII');
  });

  it('refuses a line break in any header field, so no field can add a header', () => {
    for (const [field, value] of [['subject', 'Hi\r\nBcc: all@example.com'], ['subject', 'Hi\nX: y'], ['to', 'a@example.com\r\nBcc: x@example.com'], ['cc', ['ok@example.com', 'b@example.com\n']], ['reply_to', 'a@example.com\u2028'], ['from', 'a@example.com\r']] as const) {
      expect(() => buildMessage({ to: 'a@example.com', subject: 's', text: 't', [field]: value }), `${field}`).toThrow(`field \`${field}\` must not contain a line break`);
    }
  });

  it('refuses what is not an address, and a message with no body', () => {
    expect(() => buildMessage({ to: 'Jenny <jenny@example.com>', subject: 's', text: 't' })).toThrow('field `to`: "Jenny <jenny@example.com>" is not an email address');
    expect(() => buildMessage({ to: 'a@example.com, b@example.com', subject: 's', text: 't' })).toThrow(/is not an email address/);
    expect(() => buildMessage({ to: 'a@example.com', subject: 's' })).toThrow('give `text`, `html` or both');
  });

  it('gives Gmail base64url without padding', () => {
    const raw = rawMessage({ to: 'a@example.com', subject: '??>>', text: '???>>>' });
    expect(raw).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(raw, 'base64url').toString('utf8')).toBe(buildMessage({ to: 'a@example.com', subject: '??>>', text: '???>>>' }));
  });
});
