import { Logger } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { createHash } from 'node:crypto';
import type Redis from 'ioredis';
import { type ThrottlerStorageRecord, windowRecord } from './fixed-window';
import { MemoryThrottlerStorage } from './memory-throttler.storage';

/**
 * INCRBY the hits of one batch and, for a window's first hit, PEXPIRE, atomically; the block extension
 * of the fixed window (see fixed-window.ts) when this batch first crosses the limit. ARGV: window ms,
 * limit, block ms, hits. Returns {hits after the batch, ms left in the window}.
 */
export const FIXED_WINDOW_SCRIPT = `
local n = tonumber(ARGV[4])
local hits = redis.call('INCRBY', KEYS[1], n)
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
local limit = tonumber(ARGV[2])
if hits > limit and hits - n <= limit and tonumber(ARGV[3]) > ttl then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  ttl = tonumber(ARGV[3])
end
return {hits, ttl}
`;
const SCRIPT_SHA = createHash('sha1').update(FIXED_WINDOW_SCRIPT).digest('hex');
export const RATE_LIMIT_KEY_PREFIX = 'umb:rl:';

/** The hits on one key waiting for the next round trip, and who waits for their counts. */
interface Batch {
  /** `throttler:key`: the Redis key with RATE_LIMIT_KEY_PREFIX, the fallback's id without. */
  readonly id: string;
  readonly ttl: number;
  readonly limit: number;
  readonly blockDuration: number;
  readonly waiters: { resolve: (r: ThrottlerStorageRecord) => void }[];
}

/**
 * Throttler storage shared by every instance through Redis, so limits are exact across instances.
 *
 * The hits on one key that arrive in the same turn of the event loop go to Redis together: one EVALSHA
 * adds them all (INCRBY n) and returns the count after them, and each hit gets its own place in that count
 * (hits - n + 1 … hits), exactly as n separate INCRs in a row would have. A key under load (the one a
 * client hammers) then costs one round trip per turn instead of one per request; nothing is counted
 * ahead, so no instance holds budget another one could have used. The script is EVAL'd on NOSCRIPT,
 * which loads it.
 *
 * Redis down: fail open to this instance's in-process counter (limits then hold per instance instead
 * of across instances), with one warning per outage, and back to Redis as soon as the connection is
 * ready again. Refusing every request because the limiter's store is down would turn a cache outage
 * into a full outage; not limiting at all would remove the protection exactly when things are fragile.
 */
export class RedisThrottlerStorage implements ThrottlerStorage {
  private readonly logger = new Logger(RedisThrottlerStorage.name);
  private degraded = false;
  private pending = new Map<string, Batch>();
  private flushScheduled = false;

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

  increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const id = `${throttlerName}:${key}`;
    if (this.redis.status !== 'ready') {
      this.degrade(`connection ${this.redis.status}`);
      return Promise.resolve(this.fallback.hit(id, ttl, limit, blockDuration, Date.now()));
    }
    // A batch shares one window and limit: the same key with other settings waits in a batch of its own.
    const batchId = `${id}\n${ttl}\n${limit}\n${blockDuration}`;
    let batch = this.pending.get(batchId);
    if (!batch) {
      batch = { id, ttl, limit, blockDuration, waiters: [] };
      this.pending.set(batchId, batch);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // After the poll phase: every request read in this turn has reached its guard by then.
        setImmediate(() => this.flush());
      }
    }
    return new Promise((resolve) => batch.waiters.push({ resolve }));
  }

  private flush(): void {
    const batches = this.pending;
    this.pending = new Map();
    this.flushScheduled = false;
    for (const batch of batches.values()) void this.send(batch);
  }

  private async send(batch: Batch): Promise<void> {
    const n = batch.waiters.length;
    try {
      const [hits, msLeft] = await this.run(batch);
      for (let i = 0; i < n; i++) batch.waiters[i].resolve(windowRecord(hits - n + 1 + i, msLeft, batch.limit));
    } catch (err) {
      this.degrade((err as Error).message);
      const now = Date.now();
      for (const w of batch.waiters)
        w.resolve(this.fallback.hit(batch.id, batch.ttl, batch.limit, batch.blockDuration, now));
    }
  }

  private async run(batch: Batch): Promise<[number, number]> {
    const args = [RATE_LIMIT_KEY_PREFIX + batch.id, batch.ttl, batch.limit, batch.blockDuration, batch.waiters.length];
    try {
      return (await this.redis.evalsha(SCRIPT_SHA, 1, ...args)) as [number, number];
    } catch (err) {
      if (!String((err as Error).message).startsWith('NOSCRIPT')) throw err;
      return (await this.redis.eval(FIXED_WINDOW_SCRIPT, 1, ...args)) as [number, number];
    }
  }

  private degrade(reason: string): void {
    if (this.degraded) return;
    this.degraded = true;
    this.logger.warn(`Redis unavailable for rate limits (${reason}): counting in process until it is back`);
  }
}
