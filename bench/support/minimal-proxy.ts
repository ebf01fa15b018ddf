/**
 * The floor any proxy stands on: node:http in front, one undici Pool behind, the request's bytes forwarded and
 * the answer's bytes relayed, with nothing else (no authentication, parsing, quota, usage or logging). The
 * benchmark runs it beside the gateway so that "gateway vs direct" can be read against what two sockets per
 * request cost on this machine. Started with UPSTREAM=<origin>; prints `{"port": N}` once listening; exits when
 * its parent closes stdin or on SIGTERM.
 */
import * as http from 'node:http';
import { serveAsHelper } from './helper-server';
import { Pool } from 'undici';

const upstream = new Pool(process.env.UPSTREAM!, { keepAliveTimeout: 30_000 });

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    upstream
      .request({
        path: req.url!,
        method: 'POST',
        headers: { authorization: String(req.headers.authorization), 'content-type': 'application/json' },
        body: Buffer.concat(chunks),
      })
      .then(async (answer) => {
        const body = Buffer.from(await answer.body.arrayBuffer());
        res.writeHead(answer.statusCode, { 'content-type': 'application/json', 'content-length': body.length });
        res.end(body);
      })
      .catch(() => {
        res.writeHead(502).end();
      });
  });
});
serveAsHelper(server);
