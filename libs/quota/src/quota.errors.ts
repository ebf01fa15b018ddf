import { errorEntry, registerErrorCodes } from '#libs/common';

/** The quota lib's own error codes, registered when the lib loads (its index.ts imports this file). */
export const QUOTA_ERROR_CODES = registerErrorCodes('quota', {
  quota_exceeded: errorEntry(429, 'insufficient_quota'),
  budget_exceeded: errorEntry(429, 'insufficient_quota'),
  tenant_budget_exceeded: errorEntry(429, 'insufficient_quota'),
});

type QuotaErrorCodes = typeof QUOTA_ERROR_CODES;

declare module '#libs/common' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- adds this lib's codes to the union
  interface ErrorCodes extends QuotaErrorCodes {}
}
