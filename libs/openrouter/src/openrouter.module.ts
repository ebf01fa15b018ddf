import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '#libs/config';
import { UserBudgets } from './budget/user-budgets';
import { OPENROUTER_CLIENT_OPTIONS, OpenRouterClient, OpenRouterClientOptions } from './client';
import { KeyDeletionQueue } from './keys/key-deletion.queue';
import { KeyLease } from './keys/key-lease';
import { OpenRouterKeyDeletion } from './keys/openrouter-key-deletion.entity';
import { OpenRouterKey } from './keys/openrouter-key.entity';
import { OpenRouterKeyProvisioner } from './keys/openrouter-key.provisioner';
import { OpenRouterKeyStore } from './keys/openrouter-key.store';
import { KeyReplacementLimit } from './keys/replacement-limit';
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
    OpenRouterKeyStore,
    KeyLease,
    KeyDeletionQueue,
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
