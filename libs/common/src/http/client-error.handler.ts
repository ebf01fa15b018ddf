import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { errorBody, errorShapeFor, ErrorCode, statusOf } from '../errors';

/** What Node's HTTP parser refuses before any request exists: a timeout, oversized headers, a malformed request. */
function codeFor(err: { code?: string }): ErrorCode {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'request_timeout';
  if (err.code === 'HPE_HEADER_OVERFLOW') return 'header_fields_too_large';
  return 'bad_request';
}

const MESSAGES: Partial<Record<ErrorCode, string>> = {
  request_timeout: 'The request did not arrive in time',
  header_fields_too_large: 'The request headers are too large',
  bad_request: 'The request is not valid HTTP',
};

/**
 * Fastify's `clientErrorHandler`: answers errors raised before a request exists with a catalogue code, in the
 * shape of the route the raw request line names (Fastify's own answer carries no `code`).
 */
export function clientErrorHandler(err: Error & { code?: string; rawPacket?: unknown }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const code = codeFor(err);
  const status = statusOf(code);
  const raw = Buffer.isBuffer(err.rawPacket) ? err.rawPacket.subarray(0, 2048).toString('latin1') : '';
  const requestLine = /^[A-Z]+ (\S+) HTTP\//.exec(raw);
  const shape = requestLine ? errorShapeFor(requestLine[1], true) : 'platform';
  const { request_id: _none, ...body } = errorBody(
    { status, code, message: MESSAGES[code] ?? 'Client error', unexpected: false },
    shape,
    '',
  ) as unknown as Record<string, unknown>;
  const text = JSON.stringify(body);
  if (socket.writable)
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(text)}\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n${text}`,
    );
  socket.destroy(err);
}
