import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { looksLikeCredential } from '../redaction/secret-text';

/** What an incoming id may be: short, plain characters, so that it is safe in headers, bodies and log lines. */
const VALID_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * True when an incoming X-Request-Id may be echoed and logged as it is. An id shaped like a credential is
 * refused even when well-formed: a client that put its key there would see it echoed and written to logs.
 */
export function isAcceptableRequestId(value: string): boolean {
  return VALID_REQUEST_ID.test(value) && !looksLikeCredential(value);
}

/** Echoes an acceptable incoming X-Request-Id, otherwise makes one (Fastify's genReqId). */
export function requestIdFor(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  const value = Array.isArray(incoming) ? incoming[0] : incoming;
  return value !== undefined && isAcceptableRequestId(value) ? value : randomUUID();
}
