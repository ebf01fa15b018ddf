import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { platformSpendSql } from '#libs/usage';
import { KeySpendCache } from '#libs/openrouter';
import { ACTIVE_API_KEY_SQL } from './admin-directory.service';
import { KeyNearLimitDto, PlatformStatsDto, TenantSpendDto } from './dto/stats.response';

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
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly spend: KeySpendCache,
  ) {}

  async collect(now = new Date()): Promise<PlatformStatsDto> {
    const [[row], tenants, keys, spentDay, spentMonth] = await Promise.all([
      this.dataSource.query(`SELECT
        (SELECT count(*) FROM users) AS users,
        (SELECT count(*) FROM tenants) AS tenants,
        (SELECT count(*) FROM api_keys k WHERE ${ACTIVE_API_KEY_SQL('k')}) AS api_keys_active,
        (SELECT count(*) FROM openrouter_keys WHERE status = 'active' AND key_encrypted IS NOT NULL) AS openrouter_keys_active,
        (SELECT count(*) FROM openrouter_keys WHERE status = 'active' AND key_encrypted IS NOT NULL AND auto_renewed) AS openrouter_keys_auto_renewed,
        (SELECT count(*) FROM audit_events WHERE action = 'openrouter_key.auto_renewed' AND created_at > now() - interval '24 hours') AS renewals_last_24h,
        (SELECT count(*) FROM audit_events WHERE action = 'openrouter_key.provisioning_failed' AND created_at > now() - interval '24 hours') AS provisioning_failures_last_24h`),
      this.spendByTenant(),
      this.keysClosestToLimit(),
      this.spendSince(new Date(now.getTime() - 24 * HOUR_MS), now),
      this.spendSince(new Date(now.getTime() - 30 * 24 * HOUR_MS), now),
    ]);
    return {
      users: Number(row.users),
      tenants: Number(row.tenants),
      api_keys_active: Number(row.api_keys_active),
      openrouter_keys_active: Number(row.openrouter_keys_active),
      openrouter_keys_auto_renewed: Number(row.openrouter_keys_auto_renewed),
      renewals_last_24h: Number(row.renewals_last_24h),
      provisioning_failures_last_24h: Number(row.provisioning_failures_last_24h),
      spend_last_24h: spentDay,
      spend_last_30d: spentMonth,
      spend_by_tenant: tenants,
      keys_closest_to_limit: keys,
    };
  }

  /** Recorded gateway cost (USD) of every tenant in [from, to). */
  private async spendSince(from: Date, to: Date): Promise<number> {
    const { sql, params } = platformSpendSql({ from, to });
    const [row]: { cost: string }[] = await this.dataSource.query(sql, params);
    return money(row?.cost);
  }

  /** Recorded gateway cost (USD) per tenant, all time (the day rollups), largest first. */
  private async spendByTenant(): Promise<TenantSpendDto[]> {
    const rows: { tenant_id: string; name: string | null; slug: string | null; requests: string; cost: string }[] =
      await this.dataSource.query(
        `SELECT u.tenant_id, t.name, t.slug, sum(u.requests) AS requests, sum(u.cost) AS cost
           FROM usage_rollups u LEFT JOIN tenants t ON t.id = u.tenant_id
          WHERE u.granularity = 'day'
          GROUP BY u.tenant_id, t.name, t.slug
          ORDER BY cost DESC, requests DESC
          LIMIT ${TOP}`,
      );
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
   * cache knows it: the key's use everywhere) and what this service recorded since the key was created: the ledger
   * up to the next whole hour, then hour rollups up to the next UTC midnight, then day rollups.
   */
  private async keysClosestToLimit(): Promise<KeyNearLimitDto[]> {
    const rows: {
      user_id: string;
      email: string | null;
      label: string | null;
      upstream_hash: string;
      spending_limit: string;
      recorded: string;
    }[] = await this.dataSource.query(
      `SELECT k.user_id, us.email, k.label, k.upstream_hash, k.spending_limit,
              COALESCE((SELECT sum(r.cost) FROM usage_records r
                         WHERE r.user_id = k.user_id AND r.created_at >= b.since AND r.created_at < b.hour), 0)
            + COALESCE((SELECT sum(u.cost) FROM usage_rollups u
                         WHERE u.user_id = k.user_id AND u.granularity = 'hour'
                           AND u.bucket_start >= b.hour AND u.bucket_start < b.day), 0)
            + COALESCE((SELECT sum(u.cost) FROM usage_rollups u
                         WHERE u.user_id = k.user_id AND u.granularity = 'day' AND u.bucket_start >= b.day), 0)
              AS recorded
         FROM openrouter_keys k JOIN users us ON us.id = k.user_id
        CROSS JOIN LATERAL (SELECT COALESCE(k.key_created_at, k.created_at) AS since) s
        CROSS JOIN LATERAL (SELECT s.since,
                                   date_trunc('hour', s.since - interval '1 microsecond', 'UTC') + interval '1 hour' AS hour) h
        CROSS JOIN LATERAL (SELECT h.since, h.hour,
                                   date_trunc('day', h.hour - interval '1 microsecond', 'UTC') + interval '24 hours' AS day) b
        WHERE k.status = 'active' AND k.key_encrypted IS NOT NULL AND k.spending_limit IS NOT NULL`,
    );
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
