/**
 * The benchmark's floor: a bare node:http server answering what /api/health answers, run as a child process so
 * that it does not share an event loop with the load generator. Prints `{"port": N}` once listening; exits when
 * its parent closes stdin (so a crashed benchmark leaves nothing behind) or on SIGTERM.
 */
import * as http from 'node:http';
import { serveAsHelper } from './helper-server';

const BODY = JSON.stringify({ status: 'ok' });

const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(BODY) });
  res.end(BODY);
});
serveAsHelper(server);
