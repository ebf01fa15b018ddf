import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { createClientErrorHandler, MAX_URL_LENGTH } from './client-error.handler';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function answer(
  err: Error & { code?: string; rawPacket?: unknown },
  logs: string[] = [],
): { head: string; body: any; destroyed: boolean } {
  let written = '';
  let destroyed = false;
  const socket = {
    destroyed: false,
    writable: true,
    write: (chunk: string) => (written += chunk),
    destroy: () => (destroyed = true),
  } as unknown as Socket;
  const sink = new Writable({ write: (chunk: Buffer, _e, done) => (logs.push(chunk.toString()), done()) });
  createClientErrorHandler(pino({}, sink))(err, socket);
  const [head, body] = written.split('\r\n\r\n');
  return { head, body: body ? JSON.parse(body) : undefined, destroyed };
}

const overflow = (head: string) =>
  Object.assign(new Error('Header overflow'), { code: 'HPE_HEADER_OVERFLOW', rawPacket: Buffer.from(head) });

describe('clientErrorHandler', () => {
  it('answers errors before any request with a catalogue code and a request id, in the shape of the route named', () => {
    const platform = answer(overflow('POST /api/tenants HTTP/1.1\r\nx-long: aaaa'));
    assert.match(platform.head, /^HTTP\/1\.1 431 /);
    assert.deepEqual(
      [platform.body.statusCode, platform.body.code, platform.destroyed],
      [431, 'header_fields_too_large', true],
    );
    assert.match(platform.body.request_id, UUID);
    assert.match(platform.head, new RegExp(`\r\nX-Request-Id: ${platform.body.request_id}\r\n`));
    const openAi = answer(overflow('POST /api/v1/chat/completions HTTP/1.1\r\nx-long: aaaa'));
    assert.deepEqual(
      [openAi.body.error.code, openAi.body.error.type],
      ['header_fields_too_large', 'invalid_request_error'],
    );
    assert.match(openAi.head, /\r\nX-Request-Id: [0-9a-f-]{36}\r\n/);

    const timeout = answer(Object.assign(new Error('timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }));
    assert.deepEqual([timeout.body.statusCode, timeout.body.code], [408, 'request_timeout']);
    const malformed = answer(Object.assign(new Error('bad'), { code: 'HPE_INVALID_METHOD' }));
    assert.deepEqual([malformed.body.statusCode, malformed.body.code], [400, 'bad_request']);
  });

  it('answers a request line too long as 414 uri_too_long, without echoing the URL, and logs the id without it', () => {
    const key = `umk_${'k'.repeat(49)}`;
    const url = `/api/tenants/${key}/${'x'.repeat(MAX_URL_LENGTH)}`;
    for (const head of [`GET ${url}`, `GET ${url} HTTP/1.1\r\nHost: x\r\n`]) {
      const logs: string[] = [];
      const res = answer(overflow(head), logs);
      assert.match(res.head, /^HTTP\/1\.1 414 /);
      assert.deepEqual([res.body.statusCode, res.body.code], [414, 'uri_too_long']);
      assert.ok(!JSON.stringify(res).includes(key) && !JSON.stringify(res).includes('xxxxxxxx'), 'URL not echoed');
      assert.equal(logs.length, 1);
      assert.ok(logs[0].includes(res.body.request_id) && logs[0].includes('uri_too_long'), logs[0]);
      assert.ok(!logs[0].includes(key) && !logs[0].includes('/api/tenants'), logs[0]);
    }
    // A URL under the limit with headers over it is the headers' fault.
    const headers = answer(overflow(`GET /api/tenants/${'x'.repeat(100)} HTTP/1.1\r\nx-big: ${'b'.repeat(20_000)}`));
    assert.equal(headers.body.code, 'header_fields_too_large');
  });

  it('writes nothing to a connection already reset', () => {
    assert.equal(answer(Object.assign(new Error('reset'), { code: 'ECONNRESET' })).head, '');
  });
});
