// The reference for the load benchmark: a bare node:http server answering each request with
// the status, headers and body the sandbox gave for the same method and path (recorded by the
// benchmark just before), and nothing else: no routing table, validation, auth or state. Plain
// JavaScript so it starts and runs without a TypeScript loader.
//   node bench/bare-server.mjs ANSWERS.json   → prints "listening on http://127.0.0.1:PORT"
import { readFileSync } from 'node:fs';
import http from 'node:http';

const answers = new Map(
  Object.entries(JSON.parse(readFileSync(process.argv[2], 'utf8'))).map(([key, a]) => [key, { status: a.status, headers: { ...a.headers, 'content-length': String(Buffer.byteLength(a.body)) }, body: a.body }]),
);
const notFound = { status: 404, headers: { 'content-type': 'text/plain', 'content-length': '9' }, body: 'not found' };

const server = http.createServer((req, res) => {
  // Requests are read to their end, as any server must before it answers on a kept-alive connection.
  req.resume();
  req.on('end', () => {
    const a = answers.get(`${req.method} ${req.url}`) ?? notFound;
    res.writeHead(a.status, a.headers);
    res.end(a.body);
  });
});
server.keepAliveTimeout = 5_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
