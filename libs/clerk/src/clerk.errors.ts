import { errorEntry, registerErrorCodes } from '#libs/common';

/** The clerk lib's own error codes, registered when the lib loads (its index.ts imports this file). */
export const CLERK_ERROR_CODES = registerErrorCodes('clerk', {
  invalid_webhook_payload: errorEntry(400, 'invalid_request_error'),
});

type ClerkErrorCodes = typeof CLERK_ERROR_CODES;

declare module '#libs/common' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- adds this lib's codes to the union
  interface ErrorCodes extends ClerkErrorCodes {}
}
