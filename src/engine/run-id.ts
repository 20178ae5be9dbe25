/**
 * Run ids: time-ordered and unique without coordination (ULID layout: 48 bits of milliseconds,
 * 80 random bits, Crockford base32), so `ls` of a log folder lists runs in the order they started.
 */
import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/**
 * Random bytes drawn 4 KiB at a time: one call into the CSPRNG costs as much as drawing a few
 * hundred bytes, and the daemon makes an id for every webhook it accepts.
 */
const POOL = Buffer.alloc(4096);
let poolAt = POOL.length;

function random10(): Buffer {
  if (poolAt + 10 > POOL.length) {
    randomFillSync(POOL);
    poolAt = 0;
  }
  poolAt += 10;
  return POOL.subarray(poolAt - 10, poolAt);
}

/** A new run id such as `01JD6Z3K8Q4V7W2X9Y0ZABCDEF`. */
export function newRunId(now: number = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  const bytes = random10();
  let rand = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      rand += ALPHABET[(value >> bits) & 31];
    }
  }
  return time + rand;
}
