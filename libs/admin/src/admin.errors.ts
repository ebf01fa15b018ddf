import { errorEntry, registerErrorCodes } from '#libs/common';

/** The admin lib's own error codes, registered when the lib loads (its index.ts imports this file). */
export const ADMIN_ERROR_CODES = registerErrorCodes('admin', {
  reconciliation_running: errorEntry(409, 'invalid_request_error'),
});

type AdminErrorCodes = typeof ADMIN_ERROR_CODES;

declare module '#libs/common' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- adds this lib's codes to the union
  interface ErrorCodes extends AdminErrorCodes {}
}
