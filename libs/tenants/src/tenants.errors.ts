import { errorEntry, registerErrorCodes } from '#libs/common';

/** The tenants lib's own error codes, registered when the lib loads (its index.ts imports this file). */
export const TENANT_ERROR_CODES = registerErrorCodes('tenants', {
  invalid_slug: errorEntry(400, 'invalid_request_error'),
  slug_taken: errorEntry(409, 'invalid_request_error'),
  personal_tenant: errorEntry(409, 'invalid_request_error'),
  already_member: errorEntry(409, 'invalid_request_error'),
  last_owner: errorEntry(409, 'invalid_request_error'),
});

type TenantErrorCodes = typeof TENANT_ERROR_CODES;

declare module '#libs/common' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- adds this lib's codes to the union
  interface ErrorCodes extends TenantErrorCodes {}
}
