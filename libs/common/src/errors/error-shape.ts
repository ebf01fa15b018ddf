import { openAiTypeOf } from './error-catalogue';
import type { ErrorResponse } from './error-response';
import { statusName } from './http-status-names';
import { scrubSecrets } from '../redaction/secret-text';

/**
 * The contract's OpenAI-compatible routes answer errors in OpenAI's shape so that OpenAI SDKs can read them;
 * so does any unknown route under `/api/v1` (an SDK pointed at a wrong path still gets an error it parses).
 */
const OPENAI_ROUTES = /^\/api\/v1\/(?:chat\/completions|completions|embeddings|responses|models)(?:\/|$)/;
/** The Anthropic-compatible route (and anything an Anthropic SDK may call below it) answers in Anthropic's shape. */
const ANTHROPIC_ROUTES = /^\/api\/v1\/messages(?:\/|$)/;
const V1_PREFIX = /^\/api\/v1(?:\/|$)/;

export type ErrorShape = 'platform' | 'openai' | 'anthropic';

/** Decided once per request from its path, and whether a route matched it at all. */
export function errorShapeFor(url: string, routeMatched: boolean): ErrorShape {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (OPENAI_ROUTES.test(path)) return 'openai';
  if (ANTHROPIC_ROUTES.test(path)) return 'anthropic';
  return !routeMatched && V1_PREFIX.test(path) ? 'openai' : 'platform';
}

/** `{"error": {...}}`: the body of every error on the OpenAI-compatible routes. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; code: string | number | null; param: string | null };
}

export function openAiErrorBody(message: string, type: string, code: string | number | null): OpenAiErrorBody {
  return { error: { message, type, code, param: null } };
}

/** Anthropic's error types, by status as the contract lists them. */
export const ANTHROPIC_ERROR_TYPES = [
  'invalid_request_error',
  'authentication_error',
  'permission_error',
  'not_found_error',
  'rate_limit_error',
  'api_error',
] as const;
export type AnthropicErrorType = (typeof ANTHROPIC_ERROR_TYPES)[number];

/** `{"type": "error", "error": {...}}`: the body of every error on the Anthropic-compatible route. */
export interface AnthropicErrorBody {
  type: 'error';
  error: { type: AnthropicErrorType; message: string; code: string };
}

export function anthropicTypeForStatus(status: number): AnthropicErrorType {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}

export function anthropicErrorBody(status: number, message: string, code: string): AnthropicErrorBody {
  return { type: 'error', error: { type: anthropicTypeForStatus(status), message, code } };
}

/** The platform's `{statusCode, error, code, message, request_id}`. */
export interface PlatformErrorBody {
  statusCode: number;
  error: string;
  code: string;
  message: string;
  details?: Record<string, unknown>;
  request_id: string;
}

/** Every error body is made here; its message never carries a credential (a key in a path it quotes, say). */
export function errorBody(
  res: ErrorResponse,
  shape: ErrorShape,
  requestId: string,
): PlatformErrorBody | OpenAiErrorBody | AnthropicErrorBody {
  const message = scrubSecrets(res.message);
  if (shape === 'openai') return openAiErrorBody(message, openAiTypeOf(res.code), res.code);
  if (shape === 'anthropic') return anthropicErrorBody(res.status, message, res.code);
  return {
    statusCode: res.status,
    error: statusName(res.status),
    code: res.code,
    message,
    ...(res.details ? { details: res.details } : {}),
    request_id: requestId,
  };
}
