import { Injectable } from '@nestjs/common';
import { Webhook, WebhookVerificationError } from 'svix';
import { AppError } from '#libs/common';
import { AppConfig } from '#libs/config';
import type { ClerkEvent } from '#libs/clerk';

export interface SvixHeaders {
  'svix-id'?: string;
  'svix-timestamp'?: string;
  'svix-signature'?: string;
}

const invalidSignature = (why: string) =>
  new AppError('invalid_webhook_signature', `Webhook signature rejected: ${why}`);

/**
 * Checks Svix's signature over the exact bytes received, with CLERK_WEBHOOK_SIGNING_SECRET. svix's
 * `Webhook.verify` refuses timestamps more than five minutes off (either way), which with the
 * signature over id and timestamp stops replays of old deliveries.
 */
@Injectable()
export class SvixVerifier {
  private readonly webhook: Webhook | null;

  constructor(config: AppConfig) {
    const secret = config.clerk.webhookSigningSecret;
    this.webhook = secret ? new Webhook(secret) : null;
  }

  verify(rawBody: Buffer | undefined, headers: SvixHeaders): { svixId: string; event: ClerkEvent } {
    if (!this.webhook) throw new AppError('webhooks_not_configured', 'CLERK_WEBHOOK_SIGNING_SECRET is not set');
    const svixId = headers['svix-id'];
    if (!svixId || !headers['svix-timestamp'] || !headers['svix-signature'])
      throw invalidSignature('missing svix headers');
    if (!rawBody || rawBody.length === 0) throw invalidSignature('empty or non-JSON body');
    let payload: unknown;
    try {
      payload = this.webhook.verify(rawBody, {
        'svix-id': svixId,
        'svix-timestamp': headers['svix-timestamp'],
        'svix-signature': headers['svix-signature'],
      });
    } catch (err) {
      if (err instanceof WebhookVerificationError)
        throw invalidSignature(
          /too old|too new/i.test(err.message) ? 'timestamp outside the 5-minute window' : 'no matching signature',
        );
      throw invalidSignature('malformed signature');
    }
    if (svixId.length > 200) throw invalidSignature('svix-id too long');
    const event = payload as Partial<ClerkEvent> | null;
    if (!event || typeof event.type !== 'string' || typeof event.data !== 'object' || event.data === null) {
      throw new AppError('invalid_webhook_payload', 'The signed body is not a Clerk event ({type, data})');
    }
    return { svixId, event: event as ClerkEvent };
  }
}
