import { errorEntry, registerErrorCodes } from '#libs/common';

/** The users lib's own error codes, registered when the lib loads (its index.ts imports this file). */
export const USER_ERROR_CODES = registerErrorCodes('users', {
  invitee_deactivated: errorEntry(409, 'invalid_request_error'),
});

type UserErrorCodes = typeof USER_ERROR_CODES;

declare module '#libs/common' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- adds this lib's codes to the union
  interface ErrorCodes extends UserErrorCodes {}
}
