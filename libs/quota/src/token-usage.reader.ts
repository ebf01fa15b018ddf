import { Inject, Injectable } from '@nestjs/common';
import { QuotaPeriod, windowOf } from './quota-period';
import { QuotaSettler } from './quota-settler';
import { QUOTA_STORE, QuotaStore } from './quota.store';

/**
 * `tokens_used` of API keys in their current quota period (UTC day, UTC month, or all time), for the
 * API-key responses. This process's queued settlements of those keys are written first, so a response
 * right after a completion already counts it.
 */
@Injectable()
export class TokenUsageReader {
  constructor(
    @Inject(QUOTA_STORE) private readonly store: QuotaStore,
    private readonly settler: QuotaSettler,
  ) {}

  async tokensUsed(apiKeyId: string, period: QuotaPeriod, at = new Date()): Promise<number> {
    return (await this.tokensUsedMany([{ id: apiKeyId, period }], at)).get(apiKeyId) ?? 0;
  }

  /** One round trip for a whole page of keys; keys without a known period count as `total`. */
  async tokensUsedMany(
    keys: { id: string; period: QuotaPeriod | null }[],
    at = new Date(),
  ): Promise<Map<string, number>> {
    if (keys.length === 0) return new Map();
    // Only these keys' queued settlements, not everything queued: cheap under load.
    const pending = keys.map((k) => this.settler.settled(k.id)).filter((p): p is Promise<void> => p !== null);
    if (pending.length > 0) await Promise.all(pending);
    const used = await this.store.used(
      keys.map((k) => ({ apiKeyId: k.id, window: windowOf(k.period ?? 'total', at) })),
    );
    return new Map(keys.map((k, i) => [k.id, used[i]]));
  }
}
