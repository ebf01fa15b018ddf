import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Fastify, { FastifyInstance } from 'fastify';
import { edgeServerOptions, REQUEST_TIMEOUT_MS } from './server-options';

/** Fastify with the edge's server options, the request timeout shortened so that the test is quick. */
describe('edge server options: slow bodies dropped, streamed responses kept', () => {
  let fastify: FastifyInstance;
  let port: number;

  before(async () => {
    fastify = Fastify(edgeServerOptions(false, 1000));
    fastify.post('/echo', async (req) => req.body);
    fastify.get('/stream', (_req, reply) => {
      reply.raw.writeHead(200, { 'content-type': 'text/plain' });
      let sent = 0;
      const timer = setInterval(() => {
        reply.raw.write(`chunk ${sent}\n`);
        if (++sent === 8) {
          clearInterval(timer);
          reply.raw.end();
        }
      }, 300);
      reply.hijack();
    });
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    port = (fastify.server.address() as { port: number }).port;
  });
  after(() => fastify.close());

  it('uses 30 s in production', () => {
    assert.equal(REQUEST_TIMEOUT_MS, 30_000);
    assert.equal(edgeServerOptions(false).requestTimeout, 30_000);
  });

  it('closes a socket that trickles its body past the request timeout', async () => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (received += d));
    socket.write('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n');
    const trickle = setInterval(() => socket.writable && socket.write(' '), 100);
    // Trickling 10 bytes a second, the 1000-byte body would take 100 s: the server must drop it well before.
    const closed = await new Promise<boolean>((resolve) => {
      const giveUp = setTimeout(() => resolve(false), 20_000);
      socket.once('close', () => {
        clearTimeout(giveUp);
        resolve(true);
      });
      socket.on('error', () => undefined);
    });
    clearInterval(trickle);
    socket.destroy();
    assert.ok(closed, 'the server closed the slow socket');
    assert.match(received, /^HTTP\/1\.1 408/);
  });

  it('keeps a response streamed for longer than the request timeout', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/stream`);
    const text = await res.text();
    assert.equal(text.split('\n').filter(Boolean).length, 8);
  });
});
