import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { clientErrorHandler } from './client-error.handler';

function answer(err: Error & { code?: string; rawPacket?: unknown }): { head: string; body: any; destroyed: boolean } {
  let written = '';
  let destroyed = false;
  const socket = {
    destroyed: false,
    writable: true,
    write: (chunk: string) => (written += chunk),
    destroy: () => (destroyed = true),
  } as unknown as Socket;
  clientErrorHandler(err, socket);
  const [head, body] = written.split('\r\n\r\n');
  return { head, body: body ? JSON.parse(body) : undefined, destroyed };
}

const overflow = (path: string) =>
  Object.assign(new Error('Header overflow'), {
    code: 'HPE_HEADER_OVERFLOW',
    rawPacket: Buffer.from(`POST ${path} HTTP/1.1\r\nx-long: aaaa`),
  });

describe('clientErrorHandler', () => {
  it('answers errors before any request with a catalogue code, in the shape of the route named', () => {
    const platform = answer(overflow('/api/tenants'));
    assert.match(platform.head, /^HTTP\/1\.1 431 /);
    assert.deepEqual(
      [platform.body.statusCode, platform.body.code, platform.destroyed],
      [431, 'header_fields_too_large', true],
    );
    const openAi = answer(overflow('/api/v1/chat/completions'));
    assert.deepEqual(
      [openAi.body.error.code, openAi.body.error.type],
      ['header_fields_too_large', 'invalid_request_error'],
    );

    const timeout = answer(Object.assign(new Error('timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }));
    assert.deepEqual([timeout.body.statusCode, timeout.body.code], [408, 'request_timeout']);
    const malformed = answer(Object.assign(new Error('bad'), { code: 'HPE_INVALID_METHOD' }));
    assert.deepEqual([malformed.body.statusCode, malformed.body.code], [400, 'bad_request']);
  });

  it('writes nothing to a connection already reset', () => {
    assert.equal(answer(Object.assign(new Error('reset'), { code: 'ECONNRESET' })).head, '');
  });
});
