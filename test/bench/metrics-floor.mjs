// The floor of the `flux metrics` benchmark: the least any reader of the run logs must do. In
// one process, one file after another, it streams every *.jsonl file under dir (and *.jsonl.gz
// through gunzip) in 64 KiB chunks (fs.createReadStream's default), decodes UTF-8, splits the
// text into lines, each a string as a parser needs it, and counts them; no JSON is parsed. flux
// metrics does this plus parsing and aggregating, so its time over this floor is its own work.
// The chunks are read with readSync: on thousands of small files, for-await over
// createReadStream spent 2 to 5 times as long in the event loop and the thread pool as in
// reading, and a floor must not carry overhead a reader can avoid. `--async` runs that slower
// reader instead, to see the difference.
// Run: node test/bench/metrics-floor.mjs dir [--async]
import { closeSync, createReadStream, openSync, readSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { gunzipSync } from 'node:zlib';

const CHUNK = 64 * 1024;
const [dir, mode] = process.argv.slice(2);
if (dir === undefined || (mode !== undefined && mode !== '--async')) {
  console.error('usage: node test/bench/metrics-floor.mjs dir [--async]');
  process.exit(2);
}
const files = readdirSync(dir, { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile() && (e.name.endsWith('.jsonl') || e.name.endsWith('.jsonl.gz')))
  .map((e) => join(e.parentPath ?? e.path, e.name))
  .sort();

let lines = 0;
let chars = 0;
/** Splits off every whole line of `text`; returns the unfinished rest. */
function split(text) {
  let start = 0;
  for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
    chars += text.slice(start, nl).length;
    lines++;
    start = nl + 1;
  }
  return text.slice(start);
}
function last(carry) {
  if (carry.length === 0) return;
  chars += carry.length;
  lines++;
}

const buf = Buffer.allocUnsafe(CHUNK);
for (const file of files) {
  const decoder = new StringDecoder('utf8');
  let carry = '';
  if (file.endsWith('.gz')) {
    // A gzipped archive is a few MB at most: gunzipped whole, then split like the rest.
    const text = decoder.write(gunzipSync(readFileSync(file))) + decoder.end();
    for (let at = 0; at < text.length; at += CHUNK) carry = split(carry + text.slice(at, at + CHUNK));
  } else if (mode === '--async') {
    const stream = createReadStream(file, { highWaterMark: CHUNK });
    stream.setEncoding('utf8');
    for await (const chunk of stream) carry = split(carry + chunk);
  } else {
    const fd = openSync(file, 'r');
    try {
      for (let n = readSync(fd, buf, 0, CHUNK, null); n > 0; n = readSync(fd, buf, 0, CHUNK, null)) carry = split(carry + decoder.write(buf.subarray(0, n)));
      carry += decoder.end();
    } finally {
      closeSync(fd);
    }
  }
  last(carry);
}
console.log(JSON.stringify({ files: files.length, lines, chars }));
