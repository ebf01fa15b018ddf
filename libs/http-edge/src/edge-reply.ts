import type { FastifyReply, FastifyRequest } from 'fastify';
import { statusName } from '#libs/common';
import { isOpenAiPath } from './edge-limits';

/** OpenAI's error `type` for a refusal at the edge (OpenAI SDKs switch on it). */
function openAiType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  return status >= 500 ? 'server_error' : 'invalid_request_error';
}

/**
 * Answers a refusal from a Fastify hook, before Nest is involved: no exception, no filter chain. The body is
 * the contract's `{statusCode, error, code, message, request_id}`, or OpenAI's `{error: {…}}` on the
 * OpenAI-compatible routes.
 */
export function sendEdgeError(
  req: FastifyRequest,
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
  headers?: Record<string, string>,
  openAiShape = isOpenAiPath(req.url),
): FastifyReply {
  if (headers) for (const name in headers) reply.header(name, headers[name]);
  const body = openAiShape
    ? { error: { message, type: openAiType(status), code, param: null } }
    : { statusCode: status, error: statusName(status), code, message, request_id: req.id };
  return reply.code(status).send(body);
}
