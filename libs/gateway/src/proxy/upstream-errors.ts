import { AppError, ErrorCode, scrubSecrets } from '#libs/common';
import { OpenRouterError } from '#libs/openrouter';
import { GatewayErrors } from '../errors/openai-error';

/** The gateway's answer to an OpenRouter call that produced no HTTP answer (timeout, connection error). */
export function transportFailure(err: unknown): unknown {
  if (!(err instanceof OpenRouterError)) return err;
  switch (err.code) {
    case 'openrouter_timeout':
      return GatewayErrors.upstreamTimeout();
    case 'openrouter_bad_response':
      return GatewayErrors.upstreamBadResponse(err.upstreamStatus ? `HTTP ${err.upstreamStatus}` : 'no usable body');
    default:
      return GatewayErrors.upstreamUnavailable(
        err.message.includes('aborted') ? 'request aborted' : 'connection failed',
      );
  }
}

/**
 * OpenRouter's refusals that keep their status, each with its own catalogue code (one code, one status). A 4xx
 * not listed here is the caller's request that OpenRouter refused for a reason of its own: a 400.
 */
const PASSED_ON: Readonly<Record<number, ErrorCode>> = {
  400: 'upstream_bad_request',
  401: 'upstream_unauthorized',
  402: 'upstream_insufficient_credits',
  403: 'upstream_forbidden',
  404: 'upstream_not_found',
  413: 'upstream_payload_too_large',
  422: 'upstream_unprocessable_entity',
  429: 'upstream_rate_limited',
};

/**
 * Any non-2xx answer of OpenRouter as the gateway's own error: its failures (5xx, 408 "timed out") become
 * `upstream_*` 5xx codes, its refusals (401 after the renewal, 402, 403, 400, 429…) keep their status under
 * a catalogue code, with OpenRouter's message (secrets scrubbed) and its `Retry-After`. Never OpenRouter's body
 * itself: its numeric `code` and provider `metadata` are not the contract's. The route's error shape (OpenAI's
 * or Anthropic's) is applied by the exception filter, as for every other error.
 */
export function upstreamStatusFailure(status: number, body: unknown, retryAfter?: string): AppError {
  if (status === 408 || status === 504) return GatewayErrors.upstreamTimeout();
  const message = upstreamMessage(body);
  if (status >= 500) return GatewayErrors.upstreamError(status, message);
  const code = PASSED_ON[status] ?? 'upstream_bad_request';
  const headers = retryAfter && /^[\w ,:+-]{1,64}$/.test(retryAfter) ? { 'retry-after': retryAfter } : undefined;
  return new AppError(code, message || `OpenRouter refused the request (HTTP ${status})`, undefined, headers);
}

/** The `code` of an error object OpenRouter put inside a 2xx answer, for the usage record. */
export function upstreamErrorCode(status: number, body: unknown): string {
  const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
  return code === undefined || code === null ? `upstream_${status}` : String(code).slice(0, 100);
}

/** OpenRouter's `error.message` (OpenAI-like bodies) or Anthropic-like `error.message`; '' when there is none. */
function upstreamMessage(body: unknown): string {
  const message = (body as { error?: { message?: unknown } } | null)?.error?.message;
  return typeof message === 'string' ? scrubSecrets(message.slice(0, 500)) : '';
}
