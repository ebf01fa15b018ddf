import { Module } from '@nestjs/common';
import { ApiKeysModule } from '#libs/api-keys';
import { OpenRouterModule } from '#libs/openrouter';
import { TenantsModule } from '#libs/tenants';
import { UsersModule } from '#libs/users';
import { ClerkOrganizationSync } from './clerk/clerk-organization.sync';
import { ClerkUserSync } from './clerk/clerk-user.sync';
import { ClerkWebhookController } from './clerk/clerk-webhook.controller';
import { ClerkWebhookDeliveryRepository } from './clerk/clerk-webhook-delivery.repository';
import { ClerkWebhookProcessor } from './clerk/clerk-webhook.processor';
import { SvixVerifier } from './clerk/svix-verifier';

/** Incoming webhooks. Needs the raw request body (`rawBody: true` in NestFactory.create). */
@Module({
  imports: [TenantsModule, OpenRouterModule, ApiKeysModule, UsersModule],
  controllers: [ClerkWebhookController],
  providers: [
    SvixVerifier,
    ClerkWebhookDeliveryRepository,
    ClerkUserSync,
    ClerkOrganizationSync,
    ClerkWebhookProcessor,
  ],
})
export class WebhooksModule {}
