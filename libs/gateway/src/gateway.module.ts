import { Module } from '@nestjs/common';
import { OpenRouterModule } from '#libs/openrouter';
import { ChatCompletionsController } from './chat/chat-completions.controller';
import { CompletionsController } from './completions/completions.controller';
import { EmbeddingsController } from './embeddings/embeddings.controller';
import { InferenceProxy } from './proxy/inference-proxy';
import { QuotaPolicyResolver } from './proxy/quota-policy.resolver';
import { UpstreamCaller } from './proxy/upstream-caller';
import { UserKeyResolver } from './proxy/user-key.resolver';
import { ModelsCatalog } from './models/models.catalog';
import { ModelsController } from './models/models.controller';
import { QuotaModule } from '#libs/quota';
import { UsageController } from './usage/usage.controller';
import { UsageQuery } from './usage/usage.query';
import { UsageRecorder } from './usage/usage.recorder';

/**
 * The OpenAI-compatible gateway (`/api/v1/chat/completions`, `/api/v1/completions`, `/api/v1/embeddings`,
 * `/api/v1/models[/{model}]`) on each user's own OpenRouter key, through one proxy core, with auto-renewal, token quotas per API key, and usage accounting (`/api/v1/usage`).
 */
@Module({
  imports: [OpenRouterModule, QuotaModule],
  controllers: [
    ChatCompletionsController,
    CompletionsController,
    EmbeddingsController,
    ModelsController,
    UsageController,
  ],
  providers: [
    InferenceProxy,
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
