import { errorEntry, registerErrorCodes } from '#libs/common';

/** The openrouter lib's own error codes, registered when the lib loads (its index.ts imports this file). */
export const OPENROUTER_ERROR_CODES = registerErrorCodes('openrouter', {
  openrouter_key_disabled: errorEntry(403, 'permission_error'),
  user_not_active: errorEntry(409, 'invalid_request_error'),
  openrouter_unavailable: errorEntry(502, 'server_error'),
  openrouter_not_configured: errorEntry(503, 'server_error'),
  openrouter_key_busy: errorEntry(503, 'server_error'),
});

type OpenRouterErrorCodes = typeof OPENROUTER_ERROR_CODES;

declare module '#libs/common' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- adds this lib's codes to the union
  interface ErrorCodes extends OpenRouterErrorCodes {}
}
