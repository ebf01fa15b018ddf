import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AccessLogController } from './access-log.controller';
import { logFormatFor, pinoOptions } from './logger.options';
import { NestPinoLogger } from './nest-pino.logger';

/** A pino logger writing into an array of parsed lines. */
function capture(level = 'info', options = pinoOptions(level)) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l));
      done();
    },
  });
  return { logger: pino(options, sink), lines };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('log format', () => {
  it('is pretty on a terminal and JSON otherwise', () => {
    assert.equal(logFormatFor({ isTTY: true }), 'pretty');
    assert.equal(logFormatFor({ isTTY: false }), 'json');
    assert.equal(logFormatFor({}), 'json');
  });
});

describe('NestPinoLogger', () => {
  it('writes Nest calls as structured lines with their context', async () => {
    const { logger, lines } = capture();
    const nest = new NestPinoLogger(logger);
    nest.log('plain message', 'Billing');
    nest.warn({ tenant_id: 't1' }, 'with fields', 'Billing');
    nest.error(new Error('boom'), 'Errors');
    await flush();
    assert.deepEqual(
      lines.map((l) => [l.level, l.context, l.msg]),
      [
        ['info', 'Billing', 'plain message'],
        ['warn', 'Billing', 'with fields'],
        ['error', 'Errors', 'boom'],
      ],
    );
    assert.equal(lines[1].tenant_id, 't1');
    assert.match(String((lines[2].err as { stack: string }).stack), /boom/);
  });

  it("puts Nest's start-up narration at debug", async () => {
    const info = capture('info');
    const debug = capture('debug');
    for (const { logger } of [info, debug]) {
      const nest = new NestPinoLogger(logger);
      nest.log('AppModule dependencies initialized', 'InstanceLoader');
      nest.log('UsersController {/api/users}:', 'RoutesResolver');
      nest.log('Mapped {/api/users/me, GET} route', 'RouterExplorer');
      nest.log('Listening', 'Bootstrap');
    }
    await flush();
    assert.deepEqual(
      info.lines.map((l) => l.context),
      ['Bootstrap'],
    );
    assert.deepEqual(
      debug.lines.map((l) => [l.level, l.context]),
      [
        ['debug', 'InstanceLoader'],
        ['debug', 'RoutesResolver'],
        ['debug', 'RouterExplorer'],
        ['info', 'Bootstrap'],
      ],
    );
  });

  it('still redacts secret fields and scrubs secret-shaped text', async () => {
    const { logger, lines } = capture();
    new NestPinoLogger(logger).warn(
      { body: { api_key: 'glm-secret-123456' } },
      'key umk_abcdefghijklmnopqrstuvwx failed',
      'X',
    );
    await flush();
    const line = JSON.stringify(lines[0]);
    assert.ok(!line.includes('glm-secret-123456'), line);
    assert.ok(!line.includes('umk_abcdefghijklmnopqrstuvwx'), line);
  });
});

describe('the root logger', () => {
  const key = `umk_${'Ab3'.repeat(16)}Zz`;
  const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyXzEifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ';

  it('scrubs the string fields of a line, the errors it logs and their messages', async () => {
    const { logger, lines } = capture();
    logger.error({ path: `/api/v1/models/${key}`, count: 3 }, 'Unexpected error');
    logger.warn({ err: new Error(`lookup of ${key} failed`), request_id: 'r1' }, 'failed');
    logger.error(new Error(`Bearer ${token} refused`));
    new NestPinoLogger(logger).error(new Error(`upstream said sk-or-v1-${'f'.repeat(64)}`), 'Gateway');
    await flush();
    const text = JSON.stringify(lines);
    for (const secret of [key, token, 'f'.repeat(64)]) assert.ok(!text.includes(secret), text);
    assert.equal(lines[0].path, `/api/v1/models/umk_…${key.slice(-4)}`);
    assert.equal(lines[0].count, 3);
    assert.match(String((lines[1].err as { message: string }).message), /^lookup of umk_/);
    assert.match(String(lines[2].msg), /^Bearer eyJh…/);
    assert.match(String((lines[3].err as { stack: string }).stack), /upstream said sk-or-v1-…ffff/);
  });

  it('leaves the fields it logs untouched for the caller', async () => {
    const { logger } = capture();
    const fields = { url: `/x/${key}` };
    logger.info(fields, 'line');
    await flush();
    assert.equal(fields.url, `/x/${key}`);
  });
});

describe('AccessLogController', () => {
  const request = (url: string, id = 'req-1') => ({ id, url, method: 'GET' }) as unknown as FastifyRequest;
  const reply = (statusCode: number) => ({ statusCode, elapsedTime: 1.234 }) as unknown as FastifyReply;

  it('writes one line per request from safe fields, with the request id, and none for health probes', async () => {
    const access = capture('info', { level: 'info', formatters: { level: (label) => ({ level: label }) } });
    const root = capture();
    const controller = new AccessLogController(access.logger, root.logger);
    controller.incomingRequest();
    controller.requestCompleted(null, request('/api/users/me'), reply(200));
    controller.requestCompleted(null, request('/api/v1/me', 'req-2'), reply(429));
    controller.requestCompleted(null, request('/api/x?key=sk-or-v1-0123456789abcdef', 'req-3'), reply(404));
    controller.requestCompleted(null, request('/api/health'), reply(200));
    controller.requestCompleted(null, request('/api/health/ready'), reply(200));
    await flush();
    assert.deepEqual(
      access.lines.map((l) => [l.level, l.request_id, l.method, l.status, l.response_time_ms]),
      [
        ['info', 'req-1', 'GET', 200, 1.2],
        ['warn', 'req-2', 'GET', 429, 1.2],
        ['warn', 'req-3', 'GET', 404, 1.2],
      ],
    );
    assert.ok(!JSON.stringify(access.lines[2]).includes('0123456789abcdef'), 'secret in a URL is scrubbed');
    assert.equal(root.lines.length, 0);
  });

  it('scrubs keys pasted into paths and cuts long URLs after scrubbing', async () => {
    const access = capture('info', { level: 'info' });
    const controller = new AccessLogController(access.logger, capture().logger);
    const key = `umk_${'k'.repeat(49)}`;
    controller.requestCompleted(null, request(`/api/v1/models/${key}`), reply(404));
    // The key straddles the cut: scrubbing first leaves no fragment of it.
    controller.requestCompleted(null, request(`/api/${'p'.repeat(1000)}/${key}/${'q'.repeat(10_000)}`), reply(414));
    await flush();
    assert.equal(access.lines[0].url, '/api/v1/models/umk_…kkkk');
    const long = String(access.lines[1].url);
    assert.ok(long.length <= 1025 && long.endsWith('…'), `${long.length}`);
    assert.ok(!long.includes('kkkkkkkk'), long);
  });
});
