import { Module } from '@nestjs/common';
import { OpenRouterModule } from '#libs/openrouter';
import { ChatCompletionsController } from './chat/chat-completions.controller';
import { ChatProxyService } from './chat/chat-proxy.service';
import { QuotaPolicyResolver } from './chat/quota-policy.resolver';
import { UpstreamCaller } from './chat/upstream-caller';
import { UserKeyResolver } from './chat/user-key.resolver';
import { ModelsCatalog } from './models/models.catalog';
import { ModelsController } from './models/models.controller';
import { QuotaModule } from '#libs/quota';
import { UsageController } from './usage/usage.controller';
import { UsageQuery } from './usage/usage.query';
import { UsageRecorder } from './usage/usage.recorder';

/**
 * The OpenAI-compatible gateway (`/api/v1/chat/completions`, `/api/v1/models`) on each user's own
 * OpenRouter key, with auto-renewal, token quotas per API key, and usage accounting (`/api/v1/usage`).
 */
@Module({
  imports: [OpenRouterModule, QuotaModule],
  controllers: [ChatCompletionsController, ModelsController, UsageController],
  providers: [
    ChatProxyService,
    UpstreamCaller,
    UserKeyResolver,
    QuotaPolicyResolver,
    ModelsCatalog,
    UsageRecorder,
    UsageQuery,
  ],
  exports: [QuotaModule, UsageRecorder],
})
export class GatewayModule {}
