/**
 * The links a person answers through: an approval step's `/approvals/<token>` and an
 * escalation's acknowledgement link. A token names what it answers (its kind, the run, the step
 * key) and until when, signed with HMAC-SHA256 under a key the daemons share through the store
 * (`Store.sharedKey`), so a link one daemon sent is honoured by another and after a restart.
 *
 * The token proves the link was made by flux for that run and step and has not expired; it is
 * not single-use by itself: whoever records the answer makes it so (a conditional write in the
 * store, so two answers racing through two daemons record one).
 *
 * Format: `<payload>.<signature>`, both base64url; the payload is JSON
 * `{"k":kind,"r":runId,"s":stepKey,"e":expiresAtMs,"a"?:approver,"n":nonce}`. Verification compares
 * signatures in constant time before it parses anything the token says.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Store } from '../store/store.js';

/** What a link answers: an approval step, or an escalation's acknowledgement. */
export type TokenKind = 'approval' | 'ack';

export interface TokenClaims {
  readonly kind: TokenKind;
  readonly runId: string;
  /** The journal key of the approval step (`approve`, `approve:2` inside foreach), or of the escalation. */
  readonly step: string;
  /** Milliseconds since the epoch; the link is refused from then on. */
  readonly expiresAt: number;
  /** The one person the link is for (an approval link sent to each approver); absent: whoever holds it. */
  readonly approver?: string;
}

/** Why a token was refused: the words a person sees, with no detail an attacker could use. */
export type TokenRefusal = 'malformed' | 'forged' | 'expired';

export type VerifiedToken = { readonly ok: true; readonly claims: TokenClaims } | { readonly ok: false; readonly refusal: TokenRefusal };

/** The name of the signing key in the store's shared keys. */
export const SIGNING_KEY_NAME = 'link-signing-key';

/** The longest token accepted: anything longer is refused before any work is done on it. */
export const MAX_TOKEN_LENGTH = 1024;

/** The key that signs links: made once per store (32 random bytes) and shared by every daemon on it. */
export async function signingKey(store: Store, now: number): Promise<Buffer> {
  const value = await store.sharedKey(SIGNING_KEY_NAME, randomBytes(32).toString('base64url'), now);
  return Buffer.from(value, 'base64url');
}

/** Makes a token for `claims`, signed with `key`. Every token carries a fresh nonce. */
export function signToken(key: Buffer, claims: TokenClaims): string {
  const payload = Buffer.from(
    JSON.stringify({ k: claims.kind, r: claims.runId, s: claims.step, e: claims.expiresAt, ...(claims.approver !== undefined ? { a: claims.approver } : {}), n: randomBytes(9).toString('base64url') }),
  ).toString('base64url');
  return `${payload}.${mac(key, payload)}`;
}

/** The link a person opens: `base` (the daemon's public URL), `path` (e.g. `/approvals/`) and a token for `claims`. */
export function signedLink(base: string, path: string, key: Buffer, claims: TokenClaims): string {
  return `${base.replace(/\/+$/, '')}${path}${signToken(key, claims)}`;
}

/** Checks a token's signature, shape and expiry at `now`. */
export function verifyToken(key: Buffer, token: string, now: number): VerifiedToken {
  if (token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token)) return { ok: false, refusal: 'malformed' };
  const [payload = '', signature = ''] = token.split('.');
  const expected = Buffer.from(mac(key, payload), 'base64url');
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, refusal: 'forged' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, refusal: 'malformed' };
  }
  const p = parsed as Record<string, unknown> | null;
  if (p === null || typeof p !== 'object' || (p.k !== 'approval' && p.k !== 'ack') || typeof p.r !== 'string' || typeof p.s !== 'string' || typeof p.e !== 'number'
    || (p.a !== undefined && typeof p.a !== 'string')) {
    return { ok: false, refusal: 'malformed' };
  }
  if (now >= p.e) return { ok: false, refusal: 'expired' };
  return { ok: true, claims: { kind: p.k, runId: p.r, step: p.s, expiresAt: p.e, ...(typeof p.a === 'string' ? { approver: p.a } : {}) } };
}

function mac(key: Buffer, payload: string): string {
  return createHmac('sha256', key).update(payload).digest('base64url');
}
