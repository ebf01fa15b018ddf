import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule, ThrottlerStorage } from '@nestjs/throttler';
import { REDIS_CLIENT, RedisClient } from '#libs/redis';
import { ApiKeyThrottlerGuard } from './api-key-throttler.guard';
import { MemoryThrottlerStorage } from './memory-throttler.storage';
import { RedisThrottlerStorage } from './redis-throttler.storage';

export const RATE_LIMIT_STORAGE = Symbol('RATE_LIMIT_STORAGE');

/** The storage behind every throttler of the app: Redis when configured, in process otherwise. */
@Module({
  providers: [
    MemoryThrottlerStorage,
    {
      provide: RATE_LIMIT_STORAGE,
      inject: [REDIS_CLIENT, MemoryThrottlerStorage],
      useFactory: (redis: RedisClient, memory: MemoryThrottlerStorage): ThrottlerStorage =>
        redis ? new RedisThrottlerStorage(redis, memory) : memory,
    },
  ],
  exports: [RATE_LIMIT_STORAGE],
})
export class RateLimitStorageModule {}

/**
 * @nestjs/throttler for the whole app, on constant-cost storage. The `default` throttler is a loose
 * per-route ceiling used where a route opts in (e.g. 5 refreshes a minute per user); API keys are
 * limited to their own rate_limit_per_minute by ApiKeyThrottlerGuard, a global guard: every API-key request
 * counts, on whichever route, and no controller can forget it.
 */
@Module({})
export class RateLimitModule {
  static forRoot(): DynamicModule {
    return {
      module: RateLimitModule,
      imports: [
        ThrottlerModule.forRootAsync({
          imports: [RateLimitStorageModule],
          inject: [RATE_LIMIT_STORAGE],
          useFactory: (storage: ThrottlerStorage) => ({
            throttlers: [{ name: 'default', ttl: 60_000, limit: 1000 }],
            storage,
          }),
        }),
      ],
      providers: [{ provide: APP_GUARD, useClass: ApiKeyThrottlerGuard }],
    };
  }
}
