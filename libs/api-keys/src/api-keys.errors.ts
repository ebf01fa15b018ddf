import { errorEntry, registerErrorCodes } from '#libs/common';

/** The api-keys lib's own error codes, registered when the lib loads (its index.ts imports this file). */
export const API_KEY_ERROR_CODES = registerErrorCodes('api-keys', {
  invalid_expires_at: errorEntry(400, 'invalid_request_error'),
  user_not_member: errorEntry(400, 'invalid_request_error'),
  user_not_signed_in: errorEntry(400, 'invalid_request_error'),
  // 401: a key that cannot be used.
  invalid_api_key: errorEntry(401, 'authentication_error'),
  api_key_revoked: errorEntry(401, 'authentication_error'),
  api_key_expired: errorEntry(401, 'authentication_error'),
  api_key_disabled: errorEntry(403, 'permission_error'),
  // 409: managing a key whose state refuses it.
  api_key_already_revoked: errorEntry(409, 'invalid_request_error'),
  api_key_already_expired: errorEntry(409, 'invalid_request_error'),
  api_key_rotating: errorEntry(409, 'invalid_request_error'),
});

type ApiKeyErrorCodes = typeof API_KEY_ERROR_CODES;

declare module '#libs/common' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- adds this lib's codes to the union
  interface ErrorCodes extends ApiKeyErrorCodes {}
}
