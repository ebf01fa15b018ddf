import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorBody, errorShapeFor, statusOf } from '#libs/common';

const REFUSAL = {
  status: statusOf('rate_limited'),
  code: 'rate_limited',
  message: 'Too many requests',
  unexpected: false,
} as const;

/**
 * The 429 body, sent by a throttler guard itself instead of through an exception and the filters; its status and
 * shape (the platform's, or OpenAI's on the OpenAI-compatible routes) come from the same catalogue and route rule.
 */
export function sendRateLimited(reply: FastifyReply, request: FastifyRequest): void {
  const shape = errorShapeFor(request.url, true);
  void reply.code(REFUSAL.status).send(errorBody(REFUSAL, shape, String(request.id)));
}

/**
 * What a guard returns once it has answered the request: the route must not run, and there is
 * nothing to throw. A promise that never settles stops Nest's pipeline; it is referenced only by the
 * suspended chain awaiting it, so all of it is garbage once the reply is gone. One new promise per
 * refusal, never a shared one (a shared pending promise would accumulate reactions).
 */
export function refusalAnswered<T>(): Promise<T> {
  return new Promise<T>(() => undefined);
}
