// Micro-benchmark of Masker.mask, the hot path of every run record: 10 secrets, a 1 KB record
// with no secret in it (the common case) and one with three, in ops/s.
// Run: npm run build && node test/bench/masker.mjs
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// MASKER=path/to/masker.js compares another build (e.g. the one before a change).
const { Masker } = await import(process.env.MASKER ?? join(ROOT, 'dist/secrets/masker.js'));

const masker = new Masker();
// Half API-key-like with a shared prefix, half random-looking (a hash), so their first
// characters are as varied as real secrets'.
const secrets = Array.from({ length: 10 }, (_, i) =>
  i % 2 === 0 ? `sk_live_${i}Xy7/q+Pz${'abcdefghij'[i]}w9K2m=${i * 7919}` : createHash('sha256').update(String(i)).digest('base64').slice(0, 24));
for (const s of secrets) masker.add(s);

const words = 'the quick brown fox jumps over the lazy dog status ok id 12345 customer email ann@example.com';
let clean = '';
while (clean.length < 1024) clean += `${words} `;
clean = clean.slice(0, 1024);
const dirty = `${clean.slice(0, 300)}${secrets[3]}${clean.slice(300, 600)}${encodeURIComponent(secrets[7])}${clean.slice(600, 900)}${Buffer.from(`user:${secrets[1]}`).toString('base64')}`;

// The median of 9 rounds, after a warm-up, so one GC pause does not decide the result.
function bench(name, text, run = () => masker.mask(text)) {
  for (let i = 0; i < 5000; i++) run();
  const n = 20000;
  const rounds = [];
  for (let r = 0; r < 9; r++) {
    const t = performance.now();
    for (let i = 0; i < n; i++) run();
    rounds.push((performance.now() - t) / n);
  }
  const ms = rounds.sort((a, b) => a - b)[4];
  console.log(`${name}: ${Math.round(1000 / ms).toLocaleString('en-US')} ops/s (${(ms * 1000).toFixed(1)} µs per mask)`);
}
bench('1 KB, no secret', clean);
bench('1 KB, 3 secrets', dirty);
// Outside data that looks like encodings: base64 and hex blobs with no secret in them.
const blobs = `${Buffer.from(clean.slice(0, 380)).toString('base64')} ${Buffer.from(clean.slice(0, 250)).toString('hex')}`.slice(0, 1024);
bench('1 KB of base64 and hex, no secret', blobs);
// A step's output as the engine masks it: ~1 KB of JSON, mostly short values.
const output = { status: 200, headers: { 'content-type': 'application/json', date: 'Tue, 24 Nov 2026 06:00:00 GMT' }, body: { items: Array.from({ length: 20 }, (_, i) => ({ id: i, name: `item ${i}`, ok: true, tag: 'ab' })) } };
bench('maskValue of a ~1 KB output, no secret', '', () => masker.maskValue(output, { keys: true }));
