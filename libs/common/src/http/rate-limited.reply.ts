import type { FastifyReply } from 'fastify';

const RATE_LIMITED_HEAD =
  '{"statusCode":429,"error":"Too Many Requests","code":"rate_limited","message":"Too many requests","request_id":';

/**
 * The contract's 429 body, sent by a throttler guard itself instead of through an exception and the
 * filters. OpenAI routes reshape it in their onSend hook, as any contract-shaped error of theirs.
 */
export function sendRateLimited(reply: FastifyReply, requestId: string): void {
  void reply
    .code(429)
    .header('content-type', 'application/json; charset=utf-8')
    .send(`${RATE_LIMITED_HEAD}${JSON.stringify(requestId)}}`);
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
