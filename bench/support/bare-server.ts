/**
 * The benchmark's floor: a bare node:http server answering what /api/health answers, run as a child process so
 * that it does not share an event loop with the load generator. Prints `{"port": N}` once listening; exits when
 * its parent closes stdin (so a crashed benchmark leaves nothing behind) or on SIGTERM.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

const BODY = JSON.stringify({ status: 'ok' });

const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(BODY) });
  res.end(BODY);
});
server.keepAliveTimeout = 72_000;

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: (server.address() as AddressInfo).port }) + '\n');
});

const exit = () => server.close(() => process.exit(0)).closeAllConnections();
process.stdin.on('end', exit).resume();
process.once('SIGTERM', exit);
