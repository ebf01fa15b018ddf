import { AppError, errorEntry, registerErrorCodes } from '#libs/common';

/** The auth lib's own error codes, registered when the lib loads (its index.ts imports this file). */
export const AUTH_ERROR_CODES = registerErrorCodes('auth', {
  tenant_mismatch: errorEntry(403, 'permission_error'),
  user_deactivated: errorEntry(403, 'permission_error'),
});

type AuthErrorCodes = typeof AUTH_ERROR_CODES;

declare module '#libs/common' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- adds this lib's codes to the union
  interface ErrorCodes extends AuthErrorCodes {}
}

/** The auth lib's errors thrown from more than one place, with their usual message. */
export const AuthErrors = {
  tenantMismatch: (message = 'X-Tenant-ID names a tenant this credential cannot act for') =>
    new AppError('tenant_mismatch', message),
};
