import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { errorBody, errorShapeFor, ErrorCode, statusOf } from '../errors';

/** A request target longer than this is refused as 414 uri_too_long (Node's limit on the whole head is 16 KiB). */
export const MAX_URL_LENGTH = 8192;

type ClientError = Error & { code?: string; rawPacket?: unknown };

/** What Node's HTTP parser refuses before any request exists: a timeout, an oversized head, a malformed request. */
function codeFor(err: ClientError, target: Target | null): ErrorCode {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'request_timeout';
  if (err.code === 'HPE_HEADER_OVERFLOW') return target?.tooLong ? 'uri_too_long' : 'header_fields_too_large';
  return 'bad_request';
}

const MESSAGES: Partial<Record<ErrorCode, string>> = {
  request_timeout: 'The request did not arrive in time',
  header_fields_too_large: 'The request headers are too large',
  uri_too_long: `The URL is longer than ${MAX_URL_LENGTH} characters`,
  bad_request: 'The request is not valid HTTP',
};

interface Target {
  path: string;
  tooLong: boolean;
}

/**
 * The request target of the raw bytes, when they start with a request line: its path decides the error's shape.
 * A line that does not end within MAX_URL_LENGTH characters, or a target longer than that, is a URL too long.
 */
function targetOf(err: ClientError): Target | null {
  if (!Buffer.isBuffer(err.rawPacket)) return null;
  const head = err.rawPacket.subarray(0, MAX_URL_LENGTH + 64).toString('latin1');
  const line = /^[A-Z]+ (\S+)( HTTP\/)?/.exec(head);
  if (!line) return null;
  const ended = line[2] !== undefined;
  return { path: line[1].slice(0, 256), tooLong: !ended || line[1].length > MAX_URL_LENGTH };
}

/**
 * Fastify's `clientErrorHandler`: answers errors raised before a request exists with a catalogue code and a
 * request id of its own (logged with the code, never with the URL or headers), in the shape of the route the
 * raw request line names (Fastify's own answer carries no `code`).
 */
export function createClientErrorHandler(logger?: Logger): (err: ClientError, socket: Socket) => void {
  return (err, socket) => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const target = targetOf(err);
    const code = codeFor(err, target);
    const status = statusOf(code);
    const requestId = randomUUID();
    logger?.warn({ request_id: requestId, status, code, parser_error: err.code }, 'request refused by the HTTP parser');
    const shape = target ? errorShapeFor(target.path, true) : 'platform';
    const body = errorBody(
      { status, code, message: MESSAGES[code] ?? 'Client error', unexpected: false },
      shape,
      requestId,
    );
    const text = JSON.stringify(body);
    if (socket.writable)
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(text)}\r\nX-Content-Type-Options: nosniff\r\n` +
          `X-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${text}`,
      );
    socket.destroy(err);
  };
}
