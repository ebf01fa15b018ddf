import { Injectable } from '@nestjs/common';
import { KeySpendCache } from '#libs/openrouter';
import { UsageRollupRepository } from '#libs/usage';
import { KeyNearLimitDto, PlatformStatsDto, TenantSpendDto } from './dto/stats.response';
import { PlatformStatsRepository } from './read-model/platform-stats.repository';

/** How many rows the spend lists hold: an overview, not a report. */
const TOP = 10;

const money = (value: unknown): number => Math.round(Number(value ?? 0) * 1e6) / 1e6;
const HOUR_MS = 3_600_000;

/**
 * The platform's counters; renewals and failures are counted from the audit trail, spend from the usage rollups
 * (which outlive the raw records that retention removes).
 */
@Injectable()
export class PlatformStats {
  constructor(
    private readonly stats: PlatformStatsRepository,
    private readonly rollups: UsageRollupRepository,
    private readonly spend: KeySpendCache,
  ) {}

  async collect(now = new Date()): Promise<PlatformStatsDto> {
    const [counts, tenants, keys, spentDay, spentMonth] = await Promise.all([
      this.stats.counts(),
      this.spendByTenant(),
      this.keysClosestToLimit(),
      this.spendSince(new Date(now.getTime() - 24 * HOUR_MS), now),
      this.spendSince(new Date(now.getTime() - 30 * 24 * HOUR_MS), now),
    ]);
    return {
      ...counts,
      spend_last_24h: spentDay,
      spend_last_30d: spentMonth,
      spend_by_tenant: tenants,
      keys_closest_to_limit: keys,
    };
  }

  /** Recorded gateway cost (USD) of every tenant in [from, to). */
  private async spendSince(from: Date, to: Date): Promise<number> {
    return money((await this.rollups.platformSpend({ from, to }))?.cost);
  }

  /** Recorded gateway cost (USD) per tenant, all time (the day rollups), largest first. */
  private async spendByTenant(): Promise<TenantSpendDto[]> {
    const rows = await this.stats.spendByTenant(TOP);
    return rows.map((r) => ({
      tenant_id: r.tenant_id,
      name: r.name,
      slug: r.slug,
      requests: Number(r.requests),
      cost: money(r.cost),
    }));
  }

  /**
   * Users' keys with the least left under their limit. Spend is the larger of OpenRouter's figure (when the spend
   * cache knows it: the key's use everywhere) and what this service recorded since the key was created.
   */
  private async keysClosestToLimit(): Promise<KeyNearLimitDto[]> {
    const rows = await this.stats.limitedKeysWithRecordedSpend();
    const keys = rows.map((r): KeyNearLimitDto => {
      const limit = Number(r.spending_limit);
      const recorded = money(r.recorded);
      const upstream = this.spend.peek(r.upstream_hash)?.usage ?? null;
      // Both are lower bounds: OpenRouter's counts use elsewhere but lags by up to a minute of cache.
      const fromUpstream = upstream !== null && upstream >= recorded;
      const usage = fromUpstream ? upstream : recorded;
      return {
        user_id: r.user_id,
        email: r.email,
        label: r.label,
        limit,
        usage: money(usage),
        limit_remaining: money(Math.max(0, limit - usage)),
        source: fromUpstream ? 'openrouter' : 'recorded',
      };
    });
    return keys.sort((a, b) => a.limit_remaining / a.limit - b.limit_remaining / b.limit).slice(0, TOP);
  }
}
