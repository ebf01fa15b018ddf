/** OpenAI's error `type`s, as OpenAI SDKs switch on them. */
export type OpenAiErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'insufficient_quota'
  | 'server_error';

export interface ErrorCodeEntry {
  readonly status: number;
  readonly openAiType: OpenAiErrorType;
}

const entry = (status: number, openAiType: OpenAiErrorType): ErrorCodeEntry => ({ status, openAiType });

/**
 * Every error code the service answers, with its one HTTP status and its OpenAI `type`. Throw sites name a
 * code and never a status, so one code cannot mean two statuses; both error shapes (the platform's and
 * OpenAI's) read the same row. A new code is added here first.
 */
export const ERROR_CATALOGUE = {
  // 400: the request itself is wrong.
  bad_request: entry(400, 'invalid_request_error'),
  validation_failed: entry(400, 'invalid_request_error'),
  invalid_json: entry(400, 'invalid_request_error'),
  invalid_request_body: entry(400, 'invalid_request_error'),
  invalid_cursor: entry(400, 'invalid_request_error'),
  invalid_range: entry(400, 'invalid_request_error'),
  range_too_large: entry(400, 'invalid_request_error'),
  invalid_slug: entry(400, 'invalid_request_error'),
  invalid_expires_at: entry(400, 'invalid_request_error'),
  user_not_member: entry(400, 'invalid_request_error'),
  user_not_signed_in: entry(400, 'invalid_request_error'),
  invalid_webhook_payload: entry(400, 'invalid_request_error'),
  invalid_webhook_signature: entry(400, 'invalid_request_error'),
  // 401: no usable credential.
  unauthenticated: entry(401, 'authentication_error'),
  invalid_token: entry(401, 'authentication_error'),
  invalid_api_key: entry(401, 'authentication_error'),
  api_key_revoked: entry(401, 'authentication_error'),
  api_key_expired: entry(401, 'authentication_error'),
  // 403: a valid credential that may not do this.
  forbidden: entry(403, 'permission_error'),
  tenant_mismatch: entry(403, 'permission_error'),
  api_key_disabled: entry(403, 'permission_error'),
  user_deactivated: entry(403, 'permission_error'),
  api_key_without_user: entry(403, 'permission_error'),
  openrouter_key_disabled: entry(403, 'permission_error'),
  // 404
  not_found: entry(404, 'not_found_error'),
  model_not_found: entry(404, 'invalid_request_error'),
  // OpenRouter's own refusals, passed on with their status (one code per status), OpenRouter's message kept.
  upstream_bad_request: entry(400, 'invalid_request_error'),
  upstream_unauthorized: entry(401, 'authentication_error'),
  upstream_insufficient_credits: entry(402, 'insufficient_quota'),
  upstream_forbidden: entry(403, 'permission_error'),
  upstream_not_found: entry(404, 'not_found_error'),
  upstream_payload_too_large: entry(413, 'invalid_request_error'),
  upstream_unprocessable_entity: entry(422, 'invalid_request_error'),
  upstream_rate_limited: entry(429, 'rate_limit_error'),
  // Other 4xx the HTTP layer answers.
  method_not_allowed: entry(405, 'invalid_request_error'),
  not_acceptable: entry(406, 'invalid_request_error'),
  request_timeout: entry(408, 'invalid_request_error'),
  payload_too_large: entry(413, 'invalid_request_error'),
  header_fields_too_large: entry(431, 'invalid_request_error'),
  unsupported_media_type: entry(415, 'invalid_request_error'),
  unprocessable_entity: entry(422, 'invalid_request_error'),
  uri_too_long: entry(414, 'invalid_request_error'),
  // 409: the request is fine but the state it meets refuses it.
  conflict: entry(409, 'invalid_request_error'),
  slug_taken: entry(409, 'invalid_request_error'),
  personal_tenant: entry(409, 'invalid_request_error'),
  already_member: entry(409, 'invalid_request_error'),
  last_owner: entry(409, 'invalid_request_error'),
  invitee_deactivated: entry(409, 'invalid_request_error'),
  user_not_active: entry(409, 'invalid_request_error'),
  api_key_already_revoked: entry(409, 'invalid_request_error'),
  api_key_already_expired: entry(409, 'invalid_request_error'),
  api_key_rotating: entry(409, 'invalid_request_error'),
  reconciliation_running: entry(409, 'invalid_request_error'),
  // 429
  rate_limited: entry(429, 'rate_limit_error'),
  quota_exceeded: entry(429, 'insufficient_quota'),
  budget_exceeded: entry(429, 'insufficient_quota'),
  tenant_budget_exceeded: entry(429, 'insufficient_quota'),
  // 5xx: ours or upstream's.
  internal_error: entry(500, 'server_error'),
  bad_gateway: entry(502, 'server_error'),
  openrouter_unavailable: entry(502, 'server_error'),
  openrouter_key_unavailable: entry(502, 'server_error'),
  openrouter_key_renewal_failed: entry(502, 'server_error'),
  upstream_unavailable: entry(502, 'server_error'),
  upstream_bad_response: entry(502, 'server_error'),
  upstream_error: entry(502, 'server_error'),
  service_unavailable: entry(503, 'server_error'),
  database_unavailable: entry(503, 'server_error'),
  openrouter_not_configured: entry(503, 'server_error'),
  openrouter_key_busy: entry(503, 'server_error'),
  webhooks_not_configured: entry(503, 'server_error'),
  gateway_timeout: entry(504, 'server_error'),
  upstream_timeout: entry(504, 'server_error'),
} as const satisfies Record<string, ErrorCodeEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CATALOGUE, code);
}

export function statusOf(code: ErrorCode): number {
  return ERROR_CATALOGUE[code].status;
}

export function openAiTypeOf(code: ErrorCode): OpenAiErrorType {
  return ERROR_CATALOGUE[code].openAiType;
}

/** Code of an error that carries none of its own (framework exceptions), by its HTTP status. */
export function defaultCodeFor(status: number): ErrorCode {
  switch (status) {
    case 400:
      return 'bad_request';
    case 401:
      return 'unauthenticated';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 405:
      return 'method_not_allowed';
    case 406:
      return 'not_acceptable';
    case 408:
      return 'request_timeout';
    case 409:
      return 'conflict';
    case 413:
      return 'payload_too_large';
    case 414:
      return 'uri_too_long';
    case 415:
      return 'unsupported_media_type';
    case 431:
      return 'header_fields_too_large';
    case 422:
      return 'unprocessable_entity';
    case 429:
      return 'rate_limited';
    case 502:
      return 'bad_gateway';
    case 503:
      return 'service_unavailable';
    case 504:
      return 'gateway_timeout';
    default:
      return status >= 500 ? 'internal_error' : 'bad_request';
  }
}

/**
 * OpenAI `type` of an error whose code is not ours (OpenRouter's own errors, passed through with their
 * status): by status, as OpenAI answers them.
 */
export function openAiTypeForStatus(status: number): OpenAiErrorType {
  if (status === 402) return 'insufficient_quota';
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}
