import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { signingKey, signToken, verifyToken, MAX_TOKEN_LENGTH } from '../../src/approvals/token.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const KEY = Buffer.alloc(32, 7);
const T0 = Date.parse('2026-11-24T09:00:00Z');
const claims = { kind: 'approval' as const, runId: 'r-1', step: 'approve', expiresAt: T0 + 60_000 };

describe('link tokens', () => {
  it('verifies what it signed, until it expires', () => {
    const token = signToken(KEY, claims);
    expect(verifyToken(KEY, token, T0)).toEqual({ ok: true, claims });
    expect(verifyToken(KEY, token, T0 + 60_000)).toEqual({ ok: false, refusal: 'expired' });
  });

  it('carries the person a link is for, signed with the rest', () => {
    const token = signToken(KEY, { ...claims, approver: 'maria@example.com' });
    expect(verifyToken(KEY, token, T0)).toEqual({ ok: true, claims: { ...claims, approver: 'maria@example.com' } });
    const [payload, signature] = token.split('.') as [string, string];
    const body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const someoneElse = Buffer.from(JSON.stringify({ ...body, a: 'mallory@example.com' })).toString('base64url');
    expect(verifyToken(KEY, `${someoneElse}.${signature}`, T0)).toEqual({ ok: false, refusal: 'forged' });
  });

  it('gives every link its own token', () => {
    expect(signToken(KEY, claims)).not.toBe(signToken(KEY, claims));
  });

  it('refuses a token signed with another key, or changed in any part', () => {
    const token = signToken(KEY, claims);
    expect(verifyToken(Buffer.alloc(32, 8), token, T0)).toEqual({ ok: false, refusal: 'forged' });
    const [payload, signature] = token.split('.') as [string, string];
    const other = Buffer.from(JSON.stringify({ k: 'approval', r: 'r-2', s: 'approve', e: T0 + 60_000, n: 'x' })).toString('base64url');
    expect(verifyToken(KEY, `${other}.${signature}`, T0)).toEqual({ ok: false, refusal: 'forged' });
    const flipped = signature.slice(0, -2) + (signature.endsWith('AA') ? 'BB' : 'AA');
    expect(verifyToken(KEY, `${payload}.${flipped}`, T0)).toEqual({ ok: false, refusal: 'forged' });
  });

  it('refuses what is not a token before doing any work on it', () => {
    for (const bad of ['', 'abc', 'a.b.c', 'a b.c', '../../etc/passwd', `${'a'.repeat(MAX_TOKEN_LENGTH)}.b`]) {
      expect(verifyToken(KEY, bad, T0)).toMatchObject({ ok: false });
    }
  });
});

describe('the signing key', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('is made once per store and read back the same after a reopen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flux-key-'));
    dirs.push(dir);
    const path = join(dir, 'state.db');
    const a = await openSqliteStore({ path, now: () => T0 });
    const first = await signingKey(a, T0);
    expect(first.length).toBe(32);
    expect((await signingKey(a, T0)).equals(first)).toBe(true);
    await a.close();
    const b = await openSqliteStore({ path, now: () => T0 });
    expect((await signingKey(b, T0 + 1)).equals(first)).toBe(true);
    const token = signToken(first, claims);
    expect(verifyToken(await signingKey(b, T0), token, T0).ok).toBe(true);
    await b.close();
  });
});
