import { Inject, Injectable } from '@nestjs/common';
import { CacheTopic, InvalidationBus, REDIS_CLIENT, RedisClient } from '#libs/redis';
import { VerifiedKeyCache } from './verified-key.cache';

/**
 * Keeps this instance's verified-key cache in step with every instance's changes, through the shared
 * invalidation bus (Redis pub/sub; local delivery without Redis): a key, its tenant or its user
 * changed → the cached entries go. Publish only after the change committed.
 *
 * While Redis is down, messages from other instances can be missed; the cache is then bypassed
 * (every request reads the database) and starts empty when Redis is back, so an instance never
 * serves a key another instance revoked during the outage.
 */
@Injectable()
export class ApiKeyCacheSync {
  readonly cache = new VerifiedKeyCache();

  constructor(
    private readonly bus: InvalidationBus,
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
  ) {
    bus.on(CacheTopic.apiKey, (id) => this.cache.apply({ kind: 'key', id }));
    bus.on(CacheTopic.tenant, (id) => this.cache.apply({ kind: 'tenant', id }));
    bus.on(CacheTopic.user, (id) => this.cache.apply({ kind: 'user', id }));
    if (redis) {
      this.cache.setTrusted(redis.status === 'ready');
      redis.on('ready', () => this.cache.setTrusted(true));
      redis.on('close', () => this.cache.setTrusted(false));
    }
  }

  /** Resolves once Redis has handed the change to every instance, i.e. before the HTTP response leaves. */
  async keyChanged(keyId: string): Promise<void> {
    await this.bus.publish(CacheTopic.apiKey, keyId);
  }
}
