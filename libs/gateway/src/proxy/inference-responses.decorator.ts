import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { AnthropicErrorDto } from '../errors/anthropic-error.dto';
import { OpenAiErrorDto } from '../errors/openai-error.dto';

/** The error answers every proxied inference route shares, documented once, in the route's error shape. */
export const ApiInferenceErrors = (family: 'openai' | 'anthropic' = 'openai') => {
  const ErrorDto = family === 'anthropic' ? AnthropicErrorDto : OpenAiErrorDto;
  return applyDecorators(
    ApiResponse({
      status: 400,
      type: ErrorDto,
      description: '`invalid_request_body`, `invalid_json`; `upstream_bad_request`: OpenRouter refused the request',
    }),
    ApiResponse({
      status: 401,
      type: ErrorDto,
      description:
        'No, unknown, revoked or expired API key; or `upstream_unauthorized`: OpenRouter refused the renewed key too',
    }),
    ApiResponse({
      status: 402,
      type: ErrorDto,
      description:
        "`upstream_insufficient_credits`: OpenRouter's answer, its status and message kept: the user's key is out of credits",
    }),
    ApiResponse({
      status: 403,
      type: ErrorDto,
      description: 'Missing `chat` scope, disabled key; or `upstream_forbidden`: OpenRouter’s 403 (e.g. moderation)',
    }),
    ApiResponse({ status: 404, type: ErrorDto, description: '`upstream_not_found`: OpenRouter knows no such model' }),
    ApiResponse({ status: 413, type: ErrorDto, description: '`payload_too_large`: the body is over 10 MiB' }),
    ApiResponse({
      status: 429,
      type: ErrorDto,
      description: '`quota_exceeded` (token quota), `rate_limited`, or `upstream_rate_limited` (OpenRouter’s 429)',
    }),
    ApiResponse({
      status: 502,
      type: ErrorDto,
      description:
        '`upstream_error`, `upstream_unavailable`, `upstream_bad_response`, `openrouter_key_unavailable`, `openrouter_key_renewal_failed`',
    }),
    ApiResponse({
      status: 503,
      type: ErrorDto,
      description: '`openrouter_not_configured`, `openrouter_key_busy`',
    }),
    ApiResponse({ status: 504, type: ErrorDto, description: '`upstream_timeout`' }),
  );
};
