import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorBody, errorShapeFor, statusOf, type ErrorCode, type ErrorShape } from '#libs/common';

/**
 * Answers a refusal from a Fastify hook, before Nest is involved: no exception, no filter chain. Status and
 * shape come from the same catalogue and route rule the global filter uses, so a code answers alike on both paths.
 */
export function sendEdgeError(
  req: FastifyRequest,
  reply: FastifyReply,
  code: ErrorCode,
  message: string,
  headers?: Record<string, string>,
  shape: ErrorShape = errorShapeFor(req.url, req.routeOptions?.url !== undefined),
): FastifyReply {
  if (headers) for (const name in headers) reply.header(name, headers[name]);
  const status = statusOf(code);
  return reply.code(status).send(errorBody({ status, code, message, unexpected: false }, shape, String(req.id)));
}
