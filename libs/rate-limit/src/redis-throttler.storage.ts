import { Logger } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import { createHash } from 'node:crypto';
import type Redis from 'ioredis';
import { windowRecord } from './fixed-window';
import { MemoryThrottlerStorage } from './memory-throttler.storage';

/**
 * INCR and, for a window's first hit, PEXPIRE, atomically; the block extension of the fixed window
 * (see fixed-window.ts) on the first hit over the limit. Returns {hits, ms left in the window}.
 */
export const FIXED_WINDOW_SCRIPT = `
local hits = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
if hits == tonumber(ARGV[2]) + 1 and tonumber(ARGV[3]) > ttl then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  ttl = tonumber(ARGV[3])
end
return {hits, ttl}
`;
const SCRIPT_SHA = createHash('sha1').update(FIXED_WINDOW_SCRIPT).digest('hex');
export const RATE_LIMIT_KEY_PREFIX = 'umb:rl:';

/**
 * Throttler storage shared by every instance through Redis: one round trip per hit (EVALSHA of a
 * script the server keeps once loaded; EVAL on NOSCRIPT, which loads it), so limits are exact across
 * instances.
 *
 * Redis down: fail open to this instance's in-process counter (limits then hold per instance instead
 * of across instances), with one warning per outage, and back to Redis as soon as the connection is
 * ready again. Refusing every request because the limiter's store is down would turn a cache outage
 * into a full outage; not limiting at all would remove the protection exactly when things are fragile.
 */
export class RedisThrottlerStorage implements ThrottlerStorage {
  private readonly logger = new Logger(RedisThrottlerStorage.name);
  private degraded = false;

  constructor(
    private readonly redis: Redis,
    private readonly fallback: MemoryThrottlerStorage,
  ) {
    redis.on('ready', () => {
      if (!this.degraded) return;
      this.degraded = false;
      this.logger.log('Rate limits are shared through Redis again');
    });
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const id = `${throttlerName}:${key}`;
    if (this.redis.status === 'ready') {
      try {
        const [hits, msLeft] = await this.run(RATE_LIMIT_KEY_PREFIX + id, ttl, limit, blockDuration);
        return windowRecord(hits, msLeft, limit);
      } catch (err) {
        this.degrade((err as Error).message);
      }
    } else {
      this.degrade(`connection ${this.redis.status}`);
    }
    return this.fallback.hit(id, ttl, limit, blockDuration, Date.now());
  }

  private async run(key: string, ttl: number, limit: number, blockDuration: number): Promise<[number, number]> {
    try {
      return (await this.redis.evalsha(SCRIPT_SHA, 1, key, ttl, limit, blockDuration)) as [number, number];
    } catch (err) {
      if (!String((err as Error).message).startsWith('NOSCRIPT')) throw err;
      return (await this.redis.eval(FIXED_WINDOW_SCRIPT, 1, key, ttl, limit, blockDuration)) as [number, number];
    }
  }

  private degrade(reason: string): void {
    if (this.degraded) return;
    this.degraded = true;
    this.logger.warn(`Redis unavailable for rate limits (${reason}): counting in process until it is back`);
  }
}
