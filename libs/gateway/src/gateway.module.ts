import { Module } from '@nestjs/common';
import { OpenRouterModule } from '#libs/openrouter';
import { INFERENCE_CONTROLLERS } from './inference/inference.controller';
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
 * The gateway on each user's own OpenRouter key: OpenAI's chat completions, completions, embeddings and Responses
 * API, Anthropic's Messages API (all through one proxy core, from one table of routes), `/api/v1/models[/{model}]`,
 * with auto-renewal, token quotas per API key, and usage accounting (`/api/v1/usage`).
 */
@Module({
  imports: [OpenRouterModule, QuotaModule],
  controllers: [...INFERENCE_CONTROLLERS, ModelsController, UsageController],
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
