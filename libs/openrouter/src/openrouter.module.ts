import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '#libs/config';
import { UserBudgets } from './budget/user-budgets';
import { OPENROUTER_CLIENT_OPTIONS, OpenRouterClient, OpenRouterClientOptions } from './client';
import { KeyChangeRecorder } from './keys/key-change.recorder';
import { KeyDeletionQueue } from './keys/key-deletion.queue';
import { KeyLease } from './keys/key-lease';
import { OpenRouterKeyDeletion } from './keys/openrouter-key-deletion.entity';
import { OpenRouterKeyDeletionRepository } from './keys/openrouter-key-deletion.repository';
import { OpenRouterKey } from './keys/openrouter-key.entity';
import { OpenRouterKeyProvisioner } from './keys/openrouter-key.provisioner';
import { OpenRouterKeyRepository } from './keys/openrouter-key.repository';
import { OpenRouterKeyStore } from './keys/openrouter-key.store';
import { KeyReplacementLimit } from './keys/replacement-limit';
import { UpstreamKeyMaker } from './keys/upstream-key.maker';
import { KeySpendCache } from './spend/key-spend.cache';

@Module({
  imports: [TypeOrmModule.forFeature([OpenRouterKey, OpenRouterKeyDeletion])],
  providers: [
    {
      provide: OPENROUTER_CLIENT_OPTIONS,
      inject: [AppConfig],
      useFactory: (config: AppConfig): OpenRouterClientOptions => ({
        baseUrl: config.openRouter.baseUrl,
        provisioningKey: config.openRouter.provisioningKey,
        timeoutMs: config.openRouter.timeoutMs,
      }),
    },
    OpenRouterClient,
    OpenRouterKeyRepository,
    OpenRouterKeyDeletionRepository,
    OpenRouterKeyStore,
    KeyLease,
    KeyDeletionQueue,
    UpstreamKeyMaker,
    KeyChangeRecorder,
    OpenRouterKeyProvisioner,
    KeySpendCache,
    UserBudgets,
    KeyReplacementLimit,
  ],
  exports: [
    OpenRouterClient,
    OpenRouterKeyStore,
    KeyDeletionQueue,
    OpenRouterKeyProvisioner,
    KeySpendCache,
    UserBudgets,
  ],
})
export class OpenRouterModule {}
