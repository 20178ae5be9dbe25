// The cheap downstream the benchmarks' workflow steps call: a bare node:http server on
// 127.0.0.1 that answers every request 200 with a small JSON body, except `/slow`, which
// answers only after a minute, or `?ms=N` milliseconds (a step that keeps a run busy). It counts requests by path and
// prints the counts as JSON on SIGUSR2 and on exit. Spawned as its own process; prints its port.
import { createServer } from 'node:http';

const counts = {};
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const path = (req.url ?? '/').split('?')[0];
    counts[path] = (counts[path] ?? 0) + 1;
    const answer = () => {
      const body = '{"ok":true}';
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
      res.end(body);
    };
    if (path === '/slow') setTimeout(answer, Number(new URL(req.url, 'http://x').searchParams.get('ms') ?? 60_000)).unref();
    else answer();
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
process.on('SIGUSR2', () => console.log(JSON.stringify(counts)));
process.on('SIGTERM', () => {
  console.log(JSON.stringify(counts));
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
