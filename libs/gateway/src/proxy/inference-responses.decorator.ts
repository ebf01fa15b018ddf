import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { OpenAiErrorDto } from '../errors/openai-error.dto';

/** The error answers every proxied inference route shares, documented once. */
export const ApiInferenceErrors = () =>
  applyDecorators(
    ApiResponse({ status: 400, type: OpenAiErrorDto, description: '`invalid_request_body`, `invalid_json`' }),
    ApiResponse({
      status: 401,
      type: OpenAiErrorDto,
      description: 'No, unknown, revoked or expired API key; or OpenRouter refused the renewed key too',
    }),
    ApiResponse({
      status: 402,
      type: OpenAiErrorDto,
      description: "OpenRouter's answer, passed through: the user's key is out of credits",
    }),
    ApiResponse({
      status: 403,
      type: OpenAiErrorDto,
      description: 'Missing `chat` scope, disabled key; or OpenRouter’s 403, passed through',
    }),
    ApiResponse({
      status: 429,
      type: OpenAiErrorDto,
      description: '`insufficient_quota` / `quota_exceeded` (token quota), or `rate_limited`',
    }),
    ApiResponse({
      status: 502,
      type: OpenAiErrorDto,
      description:
        '`upstream_error`, `upstream_unavailable`, `upstream_bad_response`, `openrouter_key_unavailable`, `openrouter_key_renewal_failed`',
    }),
    ApiResponse({
      status: 503,
      type: OpenAiErrorDto,
      description: '`openrouter_not_configured`, `openrouter_key_busy`',
    }),
    ApiResponse({ status: 504, type: OpenAiErrorDto, description: '`upstream_timeout`' }),
  );
