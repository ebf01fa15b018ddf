import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { defaultCodeFor, errorShapeFor, loggableUrl, statusOf, type ErrorCode } from '#libs/common';
import { sendEdgeError } from './edge-reply';
import { setEdgeHeaders } from './security-headers';

/** Fastify's own messages quote the URL (`'<url>' is exceeding the max param length`): never sent or logged. */
const REFUSALS: Record<string, { code: ErrorCode; message: string }> = {
  FST_ERR_MAX_PARAM_LENGTH: { code: 'uri_too_long', message: 'A path parameter of the URL is too long' },
  FST_ERR_BAD_URL: { code: 'bad_request', message: 'The URL is not valid (a malformed percent-encoding?)' },
};

/**
 * Fastify's `frameworkErrors`: what it refuses before routing (a path parameter over its limit, a URL that does
 * not decode) is answered here, before any hook runs: the security headers and request id, a catalogue code and
 * a fixed message in the shape of the path's routes (OpenAI's under /api/v1), never the URL itself, and one
 * log line with the URL scrubbed and cut.
 */
export function answerFrameworkError(error: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  setEdgeHeaders(req, reply);
  const known = REFUSALS[error.code];
  const code = known?.code ?? defaultCodeFor(error.statusCode ?? 500);
  // Fastify writes no access line for these: this one stands for it, the URL scrubbed and cut.
  req.log.warn(
    { request_id: req.id, method: req.method, url: loggableUrl(req.url), status: statusOf(code), code },
    'request refused before routing',
  );
  sendEdgeError(
    req,
    reply,
    code,
    known?.message ?? 'The request was refused',
    undefined,
    errorShapeFor(req.url, false),
  );
}
