import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '#libs/config';
import { InvalidationBus } from './invalidation-bus';
import { createRedis, REDIS_CLIENT, RedisClient } from './redis.client';

@Global()
@Module({
  providers: [
    {
      provide: REDIS_CLIENT,
      inject: [AppConfig],
      useFactory: (config: AppConfig): RedisClient => (config.redisUrl ? createRedis(config.redisUrl, 'main') : null),
    },
    InvalidationBus,
  ],
  exports: [REDIS_CLIENT, InvalidationBus],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS_CLIENT) private readonly redis: RedisClient) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis?.quit().catch(() => this.redis?.disconnect());
  }
}
