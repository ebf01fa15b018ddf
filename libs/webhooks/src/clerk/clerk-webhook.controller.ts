import { Controller, HttpCode, Post, Req } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Public } from '#libs/common';
import { ClerkWebhookProcessor, WebhookOutcome } from './clerk-webhook.processor';
import { SvixVerifier } from './svix-verifier';

type RawRequest = FastifyRequest & { rawBody?: Buffer };

/** Clerk's user and organization changes, signed by Svix. */
@ApiTags('webhooks')
@Public()
@Controller('webhooks/clerk')
export class ClerkWebhookController {
  constructor(
    private readonly verifier: SvixVerifier,
    private readonly processor: ClerkWebhookProcessor,
  ) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Clerk webhook (Svix-signed)',
    description:
      'Verifies the Svix signature over the raw body with CLERK_WEBHOOK_SIGNING_SECRET (timestamps more than 5 minutes off are refused), ' +
      'then applies user.created|updated|deleted, organization.created|updated|deleted and organizationMembership.created|updated|deleted. ' +
      'Each svix-id is applied once; a redelivery is acknowledged with `duplicate`. Other event types are acknowledged and ignored.',
  })
  @ApiHeader({ name: 'svix-id', required: true })
  @ApiHeader({ name: 'svix-timestamp', required: true })
  @ApiHeader({ name: 'svix-signature', required: true })
  @ApiOkResponse({
    schema: {
      example: { received: true, status: 'applied' },
      properties: { received: { type: 'boolean' }, status: { enum: ['applied', 'unchanged', 'duplicate', 'ignored'] } },
    },
  })
  @ApiBadRequestResponse({
    description: '`invalid_webhook_signature` (bad, missing or stale signature); nothing changed',
  })
  @ApiServiceUnavailableResponse({ description: '`webhooks_not_configured`: CLERK_WEBHOOK_SIGNING_SECRET is not set' })
  async receive(@Req() req: RawRequest): Promise<{ received: true; status: WebhookOutcome }> {
    const header = (name: string) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    const { svixId, event } = this.verifier.verify(req.rawBody, {
      'svix-id': header('svix-id'),
      'svix-timestamp': header('svix-timestamp'),
      'svix-signature': header('svix-signature'),
    });
    const status = await this.processor.process(svixId, event, req.id ?? null);
    return { received: true, status };
  }
}
