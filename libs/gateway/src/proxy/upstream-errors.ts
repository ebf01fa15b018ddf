import { scrubSecrets } from '#libs/common';
import { OpenRouterError } from '#libs/openrouter';
import { GatewayErrors, openAiErrorBody, openAiTypeFor, OpenAiErrorBody } from '../errors/openai-error';

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

/** OpenRouter's own failures (5xx, and 408 "timed out") become the gateway's errors; other statuses are passed on. */
export function upstreamStatusFailure(status: number, body: unknown): Error | null {
  if (status === 408 || status === 504) return GatewayErrors.upstreamTimeout();
  if (status >= 500) return GatewayErrors.upstreamError(status, upstreamMessage(body));
  return null;
}

/**
 * The body passed on for a 4xx (401 after renewal, 402, 403, 400, 429…): OpenRouter's own error object
 * with its status, message, code and any other field unchanged; only an OpenAI `type` is added when it
 * has none, so that OpenAI SDKs read it like any other error. An answer that is not an error object (an
 * HTML page from a proxy, say) is replaced.
 */
export function passThroughBody(status: number, body: unknown): unknown {
  const error = (body as { error?: unknown } | null)?.error;
  if (typeof error !== 'object' || error === null || Array.isArray(error)) {
    return openAiErrorBody(
      `OpenRouter answered HTTP ${status}`,
      openAiTypeFor(status),
      'upstream_error',
    ) satisfies OpenAiErrorBody;
  }
  const e = error as Record<string, unknown>;
  if (typeof e.type === 'string') return body;
  return { ...(body as Record<string, unknown>), error: { ...e, type: openAiTypeFor(status) } };
}

/** The `code` of an upstream error body, for the usage record. */
export function upstreamErrorCode(status: number, body: unknown): string {
  const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
  return code === undefined || code === null ? `upstream_${status}` : String(code).slice(0, 100);
}

function upstreamMessage(body: unknown): string {
  const message = (body as { error?: { message?: unknown } } | null)?.error?.message;
  return typeof message === 'string' ? scrubSecrets(message.slice(0, 300)) : '';
}
