import { errorEntry, registerErrorCodes } from '#libs/common';

/** The webhooks lib's own error codes, registered when the lib loads (its index.ts imports this file). */
export const WEBHOOK_ERROR_CODES = registerErrorCodes('webhooks', {
  invalid_webhook_signature: errorEntry(400, 'invalid_request_error'),
  webhooks_not_configured: errorEntry(503, 'server_error'),
});

type WebhookErrorCodes = typeof WEBHOOK_ERROR_CODES;

declare module '#libs/common' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- adds this lib's codes to the union
  interface ErrorCodes extends WebhookErrorCodes {}
}
