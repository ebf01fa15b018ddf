import { Injectable, Logger } from '@nestjs/common';
import { LruCache } from '#libs/common';
import { TokenUsageReader } from '#libs/quota';
import { CacheTopic, InvalidationBus } from '#libs/redis';
import type { QuotaPeriod } from '../api-key.entity';

/** How old `tokens_used` may be on the hot `/api/v1/me` path. */
const RECENT_MS = 1_000;

/**
 * `tokens_used` of keys, from the gateway's quota counters (the one place usage is counted), in the
 * key's current quota period. Management responses read it exactly; `/api/v1/me`, which may be called
 * thousands of times a second, reuses a reading at most a second old (one read per key at a time), so
 * that its cost does not grow with the request rate. A key change drops the reading.
 */
@Injectable()
export class TokensUsedView {
  private readonly recent = new LruCache<string, number>(100_000, RECENT_MS);
  private readonly inFlight = new Map<string, Promise<number>>();
  private readonly lastKnown = new LruCache<string, number>(100_000, 24 * 3_600_000);
  private readonly logger = new Logger(TokensUsedView.name);
  private warned = false;

  constructor(
    private readonly reader: TokenUsageReader,
    bus: InvalidationBus,
  ) {
    bus.on(CacheTopic.apiKey, (id) => this.recent.deleteWhere((_, key) => key.startsWith(`${id}:`)));
  }

  async exact(keys: { id: string; quotaPeriod: QuotaPeriod | null }[]): Promise<Map<string, number>> {
    return this.reader.tokensUsedMany(keys.map((k) => ({ id: k.id, period: k.quotaPeriod })));
  }

  /**
   * A reading at most a second old. While the counters cannot be read (their store is down), the last
   * reading this instance had, or null: `/api/v1/me` stays up for what it is mostly used for, checking
   * that a key works.
   */
  async recentOf(id: string, period: QuotaPeriod | null): Promise<number | null> {
    const cacheKey = `${id}:${period ?? 'total'}`;
    const cached = this.recent.get(cacheKey);
    if (cached !== undefined) return cached;
    let pending = this.inFlight.get(cacheKey);
    if (!pending) {
      pending = this.reader
        .tokensUsed(id, period ?? 'total')
        .then((used) => {
          this.recent.set(cacheKey, used);
          this.lastKnown.set(cacheKey, used);
          this.warned = false;
          return used;
        })
        .finally(() => this.inFlight.delete(cacheKey));
      this.inFlight.set(cacheKey, pending);
    }
    try {
      return await pending;
    } catch (err) {
      if (!this.warned)
        this.logger.warn(`tokens_used could not be read (${(err as Error).message}); answering the last known value`);
      this.warned = true;
      return this.lastKnown.get(cacheKey) ?? null;
    }
  }
}
