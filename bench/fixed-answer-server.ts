import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The reference target: node:http answering every request with 200 `{}` and nothing else, run as its own
 * process (forked by the bench) so it gets its own core and never shares the load generator's event loop.
 * It tells the parent its port over the IPC channel and exits when the parent goes away.
 */

const ANSWER = Buffer.from('{}');

const server = http.createServer((request, response) => {
  // Reading the body to its end keeps the connection reusable, as any real merchant would.
  request.resume();
  request.on('end', () => {
    response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': ANSWER.length });
    response.end(ANSWER);
  });
});
// Connections of a paced run may sit idle longer than node's 5 s default between two requests.
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;
server.requestTimeout = 0;

server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => {
  const { port } = server.address() as AddressInfo;
  process.send?.({ port });
});

process.on('disconnect', () => process.exit(0));
