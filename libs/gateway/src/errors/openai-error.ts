import { AppError } from '#libs/common';

/** OpenAI's error `type`s, as OpenAI SDKs switch on them. */
export type OpenAiErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'insufficient_quota'
  | 'server_error';

/** `{"error": {...}}`: the body of every error on the OpenAI-compatible routes. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; code: string | number | null; param: string | null };
}

/**
 * An error of the OpenAI-compatible routes with an explicit OpenAI `type`. It is an AppError, so that
 * anything outside these routes (logs, the global filter) still understands it.
 */
export class OpenAiError extends AppError {
  constructor(
    status: number,
    readonly type: OpenAiErrorType,
    code: string,
    message: string,
    headers?: Record<string, string>,
  ) {
    super(status, code, message, undefined, headers);
    this.name = 'OpenAiError';
  }
}

/** The OpenAI `type` for an error that carries none of its own. */
export function openAiTypeFor(status: number, code?: string): OpenAiErrorType {
  if (code === 'quota_exceeded' || status === 402) return 'insufficient_quota';
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

export function openAiErrorBody(message: string, type: string, code: string | number | null): OpenAiErrorBody {
  return { error: { message, type, code, param: null } };
}

/** The gateway's own failures, one place for their codes. */
export const GatewayErrors = {
  quotaExceeded: (quota: number, period: string) =>
    new OpenAiError(
      429,
      'insufficient_quota',
      'quota_exceeded',
      `This API key has used its token quota (${quota} tokens per ${period === 'total' ? 'lifetime' : period})`,
    ),
  invalidBody: (message: string) => new OpenAiError(400, 'invalid_request_error', 'invalid_request_body', message),
  noUser: () =>
    new OpenAiError(
      403,
      'permission_error',
      'api_key_without_user',
      'This API key does not act for a user, so it has no OpenRouter key',
    ),
  notConfigured: () =>
    new OpenAiError(
      503,
      'server_error',
      'openrouter_not_configured',
      'The user has no OpenRouter key and OpenRouter provisioning is not configured',
    ),
  keyUnavailable: (reason: string) =>
    new OpenAiError(
      502,
      'server_error',
      'openrouter_key_unavailable',
      `No OpenRouter key could be provisioned for the user (${reason})`,
    ),
  keyDisabled: () =>
    new OpenAiError(403, 'permission_error', 'openrouter_key_disabled', "The user's OpenRouter key is disabled"),
  renewalFailed: (reason: string) =>
    new OpenAiError(
      502,
      'server_error',
      'openrouter_key_renewal_failed',
      `OpenRouter refused the user's key and renewing it failed (${reason})`,
    ),
  keyBusy: () =>
    new OpenAiError(
      503,
      'server_error',
      'openrouter_key_busy',
      "The user's OpenRouter key is being replaced; retry shortly",
      { 'retry-after': '1' },
    ),
  upstreamTimeout: () => new OpenAiError(504, 'server_error', 'upstream_timeout', 'OpenRouter did not answer in time'),
  upstreamUnavailable: (detail: string) =>
    new OpenAiError(502, 'server_error', 'upstream_unavailable', `OpenRouter is unavailable (${detail})`),
  upstreamBadResponse: (detail: string) =>
    new OpenAiError(
      502,
      'server_error',
      'upstream_bad_response',
      `OpenRouter answered something unexpected (${detail})`,
    ),
  upstreamError: (status: number, detail: string) =>
    new OpenAiError(
      502,
      'server_error',
      'upstream_error',
      `OpenRouter failed with HTTP ${status}${detail ? `: ${detail}` : ''}`,
    ),
  modelsUnavailable: () =>
    new OpenAiError(502, 'server_error', 'upstream_unavailable', 'The model list could not be fetched from OpenRouter'),
};
