import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { defaultCodeFor, errorShapeFor, loggableUrl, statusOf, type ErrorCode } from '#libs/common';
import { sendEdgeError } from './edge-reply';
import { setEdgeHeaders } from './security-headers';

interface Refusal {
  code: ErrorCode;
  message: string;
  /** A route matched the path (up to a parameter over its limit): the answer takes that route's shape. */
  routed: boolean;
}

/** Fastify's own messages quote the URL (`'<url>' is exceeding the max param length`): never sent or logged. */
const REFUSALS: Record<string, Refusal> = {
  FST_ERR_MAX_PARAM_LENGTH: { code: 'uri_too_long', message: 'A path parameter of the URL is too long', routed: true },
  FST_ERR_BAD_URL: {
    code: 'bad_request',
    message: 'The URL is not valid (a malformed percent-encoding?)',
    routed: false,
  },
};

/**
 * Fastify's `frameworkErrors`: what it refuses before routing (a path parameter over its limit, a URL that does
 * not decode) is answered here, before any hook runs: the security headers and request id, a catalogue code and
 * a fixed message in the route's shape (by its path where no route matched: OpenAI's under /api/v1), never the
 * URL itself, and one log line with the URL scrubbed and cut.
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
  const shape = errorShapeFor(req.url, known?.routed ?? false);
  sendEdgeError(req, reply, code, known?.message ?? 'The request was refused', undefined, shape);
}
