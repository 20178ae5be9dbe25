// The floor for the webhook intake benchmark: the least a server can do and still answer 202
// only for what is on disk. A bare node:http server reads each body, appends it to one file,
// and answers once an fsync covering it has returned. Bodies that arrive while an fsync is in
// flight wait for the next one, together (group commit), so it is as fast as durable gets
// without a database. Spawned as its own process; prints its port on the first line.
// Run alone: node test/bench/intake-floor.mjs <file>
import { open } from 'node:fs/promises';
import { createServer } from 'node:http';

const file = await open(process.argv[2] ?? 'floor.log', 'a');
let pending = [];
let flushing = false;

async function flush() {
  flushing = true;
  while (pending.length > 0) {
    const batch = pending;
    pending = [];
    try {
      await file.writev(batch.map((p) => p.line));
      await file.sync();
      for (const p of batch) p.done(true);
    } catch {
      for (const p of batch) p.done(false);
    }
  }
  flushing = false;
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const line = Buffer.concat([Buffer.concat(chunks), Buffer.from('\n')]);
    pending.push({
      line,
      done: (ok) => {
        const body = ok ? '{"accepted":true}\n' : 'not stored\n';
        res.writeHead(ok ? 202 : 503, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      },
    });
    if (!flushing) void flush();
  });
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
process.on('SIGTERM', () => server.close(() => file.close().then(() => process.exit(0))));
