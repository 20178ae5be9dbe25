// Building a vendor request from an operation spec: the placements no connector of this
// increment uses yet (path parameters, headers, a body-field idempotency key like Square's),
// Google's {+name} reserved expansion and query-parameter idempotency key, as well as
// Stripe-style form encoding and its bounds.
import { describe, expect, it } from 'vitest';
import type { OperationSpec } from '../../src/connectors/spec.js';
import { buildVendorRequest, encodeForm } from '../../src/connectors/vendor-request.js';

const op: OperationSpec = {
  summary: 'Publish an invoice.',
  http: { method: 'POST', path: '/v2/invoices/{invoice_id}/publish', body: 'json' },
  idempotency: { bodyField: 'idempotency_key' },
  fields: {
    invoice_id: { type: 'string', description: 'Invoice.', required: true, in: 'path' },
    version: { type: 'integer', description: 'Version.', required: true },
    square_version: { type: 'string', description: 'API version.', in: 'header', name: 'Square-Version', default: '2025-01-23' },
    fields: { type: 'array', description: 'Fields to return.', in: 'query' },
  },
  output: 'The invoice.',
};

describe('buildVendorRequest', () => {
  it('fills and escapes path parameters, places headers, query lists and a body-field idempotency key', () => {
    const r = buildVendorRequest(op, { invoice_id: 'inv/1 ?', version: 3, fields: ['id', 'status'] }, 'RUN1:publish');
    expect(r).toEqual({
      method: 'POST',
      path: '/v2/invoices/inv%2F1%20%3F/publish',
      query: { fields: ['id', 'status'] },
      headers: { 'square-version': '2025-01-23', 'content-type': 'application/json' },
      body: JSON.stringify({ version: 3, idempotency_key: 'RUN1:publish' }),
    });
  });

  it('keeps an idempotency key the step gave itself', () => {
    const withKey: OperationSpec = { ...op, fields: { ...op.fields, idempotency_key: { type: 'string', description: 'Key.' } } };
    const r = buildVendorRequest(withKey, { invoice_id: 'i', version: 1, idempotency_key: 'mine' }, 'RUN1:publish');
    expect(JSON.parse(r.body!)).toMatchObject({ idempotency_key: 'mine' });
  });

  it('sends a key longer than the vendor bound as a digest of that length, the same every time', () => {
    const bounded: OperationSpec = { ...op, idempotency: { bodyField: 'nonce', maxLength: 25 } };
    const key = '01J9ZX3Q7K8M2N4P6R8T0V2W4Y:notify_customer';
    const first = JSON.parse(buildVendorRequest(bounded, { invoice_id: 'i', version: 1 }, key).body!) as { nonce: string };
    const again = JSON.parse(buildVendorRequest(bounded, { invoice_id: 'i', version: 1 }, key).body!) as { nonce: string };
    expect(first.nonce).toHaveLength(25);
    expect(first.nonce).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(again.nonce).toBe(first.nonce);
    expect(JSON.parse(buildVendorRequest(bounded, { invoice_id: 'i', version: 1 }, `${key}:1`).body!)).not.toMatchObject({ nonce: first.nonce });
    expect(JSON.parse(buildVendorRequest(bounded, { invoice_id: 'i', version: 1 }, 'RUN1:a').body!)).toMatchObject({ nonce: 'RUN1:a' });
  });

  it('sends a list body where the vendor takes one, with a header idempotency key', () => {
    const batch: OperationSpec = {
      summary: 'Send a batch.', output: 'Ids.', idempotency: { header: 'Idempotency-Key' },
      http: { method: 'POST', path: '/emails/batch', body: 'json', buildBody: (f) => f.emails as unknown[] },
      fields: { emails: { type: 'array', description: 'Emails.', required: true } },
    };
    const r = buildVendorRequest(batch, { emails: [{ to: 'a@example.com' }, { to: 'b@example.com' }] }, 'RUN1:batch');
    expect(r.headers['idempotency-key']).toBe('RUN1:batch');
    expect(JSON.parse(r.body!)).toEqual([{ to: 'a@example.com' }, { to: 'b@example.com' }]);
  });

  it('always sends the fixed query parameters of the mapping', () => {
    const share: OperationSpec = {
      summary: 'Share.', output: 'File.',
      http: { method: 'PUT', path: '/files/{file_id}', body: 'json', query: { fields: 'shared_link' } },
      fields: { file_id: { type: 'string', description: 'File.', required: true, in: 'path' }, fields: { type: 'string', description: 'Clash.', in: 'query' } },
    };
    expect(buildVendorRequest(share, { file_id: '12', fields: 'name' }, 'k').query).toEqual({ fields: 'shared_link' });
  });

  it('refuses a missing path parameter and a mapping in a path slot', () => {
    expect(() => buildVendorRequest(op, { version: 1 }, 'k')).toThrow('missing path parameter `invoice_id`');
    expect(() => buildVendorRequest(op, { invoice_id: { a: 1 }, version: 1 }, 'k')).toThrow('field `invoice_id` must be a string, number or boolean, not object');
  });
});

describe('Google-style requests', () => {
  const patch: OperationSpec = {
    summary: 'Update a message.',
    http: { method: 'POST', path: '/v1/{+parent}/messages', body: 'json' },
    idempotency: { query: 'requestId' },
    fields: { parent: { type: 'string', description: 'Space.', required: true, in: 'path' }, text: { type: 'string', description: 'Text.' } },
    output: 'The message.',
  };

  it('keeps the slashes of a {+name} value and escapes the rest of each segment', () => {
    expect(buildVendorRequest(patch, { parent: 'spaces/A B?', text: 'hi' }, 'RUN1:post').path).toBe('/v1/spaces/A%20B%3F/messages');
  });

  it('refuses a value that does not match its pattern, naming the field', () => {
    const named: OperationSpec = { ...patch, fields: { ...patch.fields, parent: { ...patch.fields.parent!, pattern: '^spaces/[^/]+$' } } };
    expect(() => buildVendorRequest(named, { parent: 'AAAA\u001b[2J' }, 'k')).toThrow('field `parent` must match `^spaces/[^/]+$`, not `AAAA\\e[2J`');
    expect(buildVendorRequest(named, { parent: 'spaces/AAAA' }, 'k').path).toBe('/v1/spaces/AAAA/messages');
  });

  it('puts a query-parameter idempotency key in the query, unless the step gave its own', () => {
    expect(buildVendorRequest(patch, { parent: 'spaces/A' }, 'RUN1:post').query).toEqual({ requestId: 'RUN1:post' });
    const own: OperationSpec = { ...patch, fields: { ...patch.fields, request_id: { type: 'string', description: 'Key.', in: 'query', name: 'requestId' } } };
    expect(buildVendorRequest(own, { parent: 'spaces/A', request_id: 'mine' }, 'RUN1:post').query).toEqual({ requestId: 'mine' });
  });
});

describe('encodeForm', () => {
  it('encodes nested objects and lists with bracketed keys, leaving out null', () => {
    expect(decodeURIComponent(encodeForm({ a: { b: [1, { c: true }] }, d: null, e: 'x y' }))).toBe('a[b][0]=1&a[b][1][c]=true&e=x+y');
  });

  it('refuses nesting deeper than its bound', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 20; i++) deep = { k: deep };
    expect(() => encodeForm({ deep })).toThrow(/nests deeper than 8 levels/);
  });
});
