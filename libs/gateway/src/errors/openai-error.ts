import { AppError, openAiErrorBody, openAiTypeForStatus } from '#libs/common';
import type { OpenAiErrorBody } from '#libs/common';
import '../gateway.errors'; // the codes thrown here, registered also when a test loads this file alone

export { openAiErrorBody };
export type { OpenAiErrorBody };

/** OpenAI `type` of an upstream error passed on with its own status (the catalogue types our own codes). */
export const openAiTypeFor = openAiTypeForStatus;

/** The gateway's own failures with their messages; codes, statuses and OpenAI types come from the catalogue. */
export const GatewayErrors = {
  quotaExceeded: (quota: number, period: string) =>
    new AppError(
      'quota_exceeded',
      `This API key has used its token quota (${quota} tokens per ${period === 'total' ? 'lifetime' : period})`,
    ),
  invalidBody: (message: string) => new AppError('invalid_request_body', message),
  noUser: () =>
    new AppError('api_key_without_user', 'This API key does not act for a user, so it has no OpenRouter key'),
  notConfigured: () =>
    new AppError(
      'openrouter_not_configured',
      'The user has no OpenRouter key and OpenRouter provisioning is not configured',
    ),
  keyUnavailable: (reason: string) =>
    new AppError('openrouter_key_unavailable', `No OpenRouter key could be provisioned for the user (${reason})`),
  keyDisabled: () => new AppError('openrouter_key_disabled', "The user's OpenRouter key is disabled"),
  renewalFailed: (reason: string) =>
    new AppError(
      'openrouter_key_renewal_failed',
      `OpenRouter refused the user's key and renewing it failed (${reason})`,
    ),
  keyBusy: () =>
    new AppError('openrouter_key_busy', "The user's OpenRouter key is being replaced; retry shortly", undefined, {
      'retry-after': '1',
    }),
  upstreamTimeout: () => new AppError('upstream_timeout', 'OpenRouter did not answer in time'),
  upstreamUnavailable: (detail: string) =>
    new AppError('upstream_unavailable', `OpenRouter is unavailable (${detail})`),
  upstreamBadResponse: (detail: string) =>
    new AppError('upstream_bad_response', `OpenRouter answered something unexpected (${detail})`),
  upstreamError: (status: number, detail: string) =>
    new AppError('upstream_error', `OpenRouter failed with HTTP ${status}${detail ? `: ${detail}` : ''}`),
  modelsUnavailable: () => new AppError('upstream_unavailable', 'The model list could not be fetched from OpenRouter'),
};
