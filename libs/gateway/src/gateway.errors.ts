import { errorEntry, registerErrorCodes } from '#libs/common';

/** The gateway lib's own error codes, registered when the lib loads (its index.ts imports this file). */
export const GATEWAY_ERROR_CODES = registerErrorCodes('gateway', {
  invalid_range: errorEntry(400, 'invalid_request_error'),
  range_too_large: errorEntry(400, 'invalid_request_error'),
  api_key_without_user: errorEntry(403, 'permission_error'),
  // OpenAI answers an unknown model 404 invalid_request_error.
  model_not_found: errorEntry(404, 'invalid_request_error'),
  openrouter_key_unavailable: errorEntry(502, 'server_error'),
  openrouter_key_renewal_failed: errorEntry(502, 'server_error'),
  // OpenRouter's own refusals, passed on with their status (one code per status), OpenRouter's message kept.
  upstream_bad_request: errorEntry(400, 'invalid_request_error'),
  upstream_unauthorized: errorEntry(401, 'authentication_error'),
  upstream_insufficient_credits: errorEntry(402, 'insufficient_quota'),
  upstream_forbidden: errorEntry(403, 'permission_error'),
  upstream_not_found: errorEntry(404, 'not_found_error'),
  upstream_payload_too_large: errorEntry(413, 'invalid_request_error'),
  upstream_unprocessable_entity: errorEntry(422, 'invalid_request_error'),
  upstream_rate_limited: errorEntry(429, 'rate_limit_error'),
  // OpenRouter's failures: never its status (a 503 of OpenRouter is our 502).
  upstream_unavailable: errorEntry(502, 'server_error'),
  upstream_bad_response: errorEntry(502, 'server_error'),
  upstream_error: errorEntry(502, 'server_error'),
  upstream_timeout: errorEntry(504, 'server_error'),
});

type GatewayErrorCodes = typeof GATEWAY_ERROR_CODES;

declare module '#libs/common' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- adds this lib's codes to the union
  interface ErrorCodes extends GatewayErrorCodes {}
}
