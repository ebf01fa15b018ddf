import { Module } from '@nestjs/common';
import { REDIS_CLIENT, RedisClient } from '#libs/redis';
import { LocalQuotaStore } from './local-quota.store';
import { PostgresQuotaStore } from './postgres-quota.store';
import { QuotaPruner } from './quota-pruner';
import { QuotaSettler } from './quota-settler';
import { QUOTA_STORE, QuotaStore } from './quota.store';
import { QuotaService } from './quota.service';
import { RedisQuotaStore } from './redis-quota.store';
import { SpendReader } from './spend.reader';
import { TokenUsageReader } from './token-usage.reader';

/**
 * Token quotas, USD budgets and their counters per API key and tenant: Redis when REDIS_URL is set (shared by every instance),
 * otherwise in this process's memory, written to PostgreSQL in batches (one instance). Depends only on the database and Redis, so that the API-key capability can
 * import it for `tokens_used` and `spent_usd` (TokenUsageReader, SpendReader) without depending on the gateway.
 */
@Module({
  providers: [
    {
      provide: QUOTA_STORE,
      inject: [REDIS_CLIENT, PostgresQuotaStore],
      useFactory: (redis: RedisClient, postgres: PostgresQuotaStore): QuotaStore =>
        redis ? new RedisQuotaStore(redis) : new LocalQuotaStore(postgres),
    },
    PostgresQuotaStore,
    QuotaSettler,
    QuotaService,
    TokenUsageReader,
    SpendReader,
    QuotaPruner,
  ],
  exports: [QuotaService, TokenUsageReader, SpendReader],
})
export class QuotaModule {}
