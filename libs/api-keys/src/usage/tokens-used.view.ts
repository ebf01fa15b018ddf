import { Injectable, Logger } from '@nestjs/common';
import { LruCache } from '#libs/common';
import { SpendReader, TokenUsageReader } from '#libs/quota';
import { CacheTopic, InvalidationBus } from '#libs/redis';
import type { QuotaPeriod } from '../api-key.entity';
import type { KeyUsage } from '../management/api-key.mapper';

/** How old `tokens_used` and `spent_usd` may be on the hot `/api/v1/me` path. */
const RECENT_MS = 1_000;

/** What `/api/v1/me` shows of spend: the key's and its tenant's, each in its own budget period. */
export interface RecentSpend {
  key: number;
  tenant: number;
}

/**
 * `tokens_used` and `spent_usd` of keys (and their tenants), from the gateway's counters (the one place
 * usage is counted), each in its current period. Management responses read them exactly; `/api/v1/me`,
 * which may be called thousands of times a second, reuses a reading at most a second old (one read per key
 * at a time), so that its cost does not grow with the request rate. A key or tenant change drops the reading.
 */
@Injectable()
export class TokensUsedView {
  private readonly recent = new LruCache<string, number>(100_000, RECENT_MS);
  private readonly inFlight = new Map<string, Promise<number>>();
  private readonly lastKnown = new LruCache<string, number>(100_000, 24 * 3_600_000);
  private readonly recentSpend = new Recent<RecentSpend>();
  private readonly logger = new Logger(TokensUsedView.name);
  private warned = false;

  constructor(
    private readonly reader: TokenUsageReader,
    private readonly spend: SpendReader,
    bus: InvalidationBus,
  ) {
    bus.on(CacheTopic.apiKey, (id) => {
      this.recent.deleteWhere((_, key) => key.startsWith(`${id}:`));
      this.recentSpend.drop(id);
    });
    bus.on(CacheTopic.tenant, (id) => this.recentSpend.drop(id));
  }

  /** Exact figures for management responses, one round trip per kind for the whole page. */
  async exact(
    keys: { id: string; quotaPeriod: QuotaPeriod | null; budgetPeriod: QuotaPeriod }[],
  ): Promise<Map<string, KeyUsage>> {
    const [tokens, spent] = await Promise.all([
      this.reader.tokensUsedMany(keys.map((k) => ({ id: k.id, period: k.quotaPeriod }))),
      this.spend.spentUsd(keys.map((k) => ({ kind: 'api_key', id: k.id, period: k.budgetPeriod }))),
    ]);
    return new Map(keys.map((k, i) => [k.id, { tokensUsed: tokens.get(k.id) ?? 0, spentUsd: spent[i] }]));
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
      this.warnOnce(err);
      return this.lastKnown.get(cacheKey) ?? null;
    }
  }

  /** The key's and its tenant's spend, at most a second old (null while unreadable and never read). */
  async recentSpendOf(
    key: { id: string; period: QuotaPeriod },
    tenant: { id: string; period: QuotaPeriod },
  ): Promise<RecentSpend | null> {
    const cacheKey = `${key.id}:${key.period}:${tenant.id}:${tenant.period}`;
    try {
      return await this.recentSpend.read(cacheKey, [key.id, tenant.id], async () => {
        const [k, t] = await this.spend.spentUsd([
          { kind: 'api_key', id: key.id, period: key.period },
          { kind: 'tenant', id: tenant.id, period: tenant.period },
        ]);
        return { key: k, tenant: t };
      });
    } catch (err) {
      this.warnOnce(err);
      return this.recentSpend.lastKnown(cacheKey);
    }
  }

  private warnOnce(err: unknown): void {
    if (!this.warned)
      this.logger.warn(`Usage counters could not be read (${(err as Error).message}); answering the last known value`);
    this.warned = true;
  }
}

/** Readings at most RECENT_MS old, one read per key at a time, the last good one kept for outages. */
class Recent<T> {
  private readonly fresh = new LruCache<string, { value: T; owners: string[] }>(100_000, RECENT_MS);
  private readonly last = new LruCache<string, T>(100_000, 24 * 3_600_000);
  private readonly inFlight = new Map<string, Promise<T>>();

  async read(cacheKey: string, owners: string[], load: () => Promise<T>): Promise<T> {
    const cached = this.fresh.get(cacheKey);
    if (cached) return cached.value;
    let pending = this.inFlight.get(cacheKey);
    if (!pending) {
      pending = load()
        .then((value) => {
          this.fresh.set(cacheKey, { value, owners });
          this.last.set(cacheKey, value);
          return value;
        })
        .finally(() => this.inFlight.delete(cacheKey));
      this.inFlight.set(cacheKey, pending);
    }
    return pending;
  }

  lastKnown(cacheKey: string): T | null {
    return this.last.get(cacheKey) ?? null;
  }

  /** Drops the readings of a key or tenant that changed. */
  drop(ownerId: string): void {
    this.fresh.deleteWhere((entry) => entry.owners.includes(ownerId));
  }
}
