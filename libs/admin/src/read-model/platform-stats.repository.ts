/**
 * The admin read model of the platform's counters: counts and spend over every tenant. It reads tables other libs
 * own and writes none of them:
 * - users (libs/users), tenants (libs/tenants), api_keys (libs/api-keys): how many there are;
 * - openrouter_keys (libs/openrouter): active and auto-renewed keys, and each key's limit;
 * - audit_events (libs/audit): renewals and provisioning failures of the last 24 hours;
 * - usage_rollups (libs/usage) and usage_records (libs/gateway): recorded spend, per tenant and per key.
 * Each is one aggregate over whole tables, which no owner's per-tenant method answers.
 */
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { TableRepository, UnitOfWork } from '#libs/database';
import { ACTIVE_API_KEY_SQL } from './active-api-key.sql';

export interface PlatformCounts {
  users: number;
  tenants: number;
  api_keys_active: number;
  openrouter_keys_active: number;
  openrouter_keys_auto_renewed: number;
  renewals_last_24h: number;
  provisioning_failures_last_24h: number;
}

export interface TenantSpendRow {
  tenant_id: string;
  name: string | null;
  slug: string | null;
  requests: string;
  cost: string;
}

/** A user's active OpenRouter key with a limit, and what this service recorded it spending since its creation. */
export interface LimitedKeyRow {
  user_id: string;
  email: string | null;
  label: string | null;
  upstream_hash: string;
  spending_limit: string;
  recorded: string;
}

@Injectable()
export class PlatformStatsRepository extends TableRepository {
  constructor(@InjectDataSource() dataSource: DataSource) {
    super(dataSource);
  }

  /** Cross-tenant: the platform's counts of users, tenants and keys, and of key events in the last 24 hours. */
  async counts(uow?: UnitOfWork): Promise<PlatformCounts> {
    const [row]: Record<keyof PlatformCounts, string>[] = await this.manager(uow).query(`SELECT
        (SELECT count(*) FROM users) AS users,
        (SELECT count(*) FROM tenants) AS tenants,
        (SELECT count(*) FROM api_keys k WHERE ${ACTIVE_API_KEY_SQL('k')}) AS api_keys_active,
        (SELECT count(*) FROM openrouter_keys WHERE status = 'active' AND key_encrypted IS NOT NULL) AS openrouter_keys_active,
        (SELECT count(*) FROM openrouter_keys WHERE status = 'active' AND key_encrypted IS NOT NULL AND auto_renewed) AS openrouter_keys_auto_renewed,
        (SELECT count(*) FROM audit_events WHERE action = 'openrouter_key.auto_renewed' AND created_at > now() - interval '24 hours') AS renewals_last_24h,
        (SELECT count(*) FROM audit_events WHERE action = 'openrouter_key.provisioning_failed' AND created_at > now() - interval '24 hours') AS provisioning_failures_last_24h`);
    return {
      users: Number(row.users),
      tenants: Number(row.tenants),
      api_keys_active: Number(row.api_keys_active),
      openrouter_keys_active: Number(row.openrouter_keys_active),
      openrouter_keys_auto_renewed: Number(row.openrouter_keys_auto_renewed),
      renewals_last_24h: Number(row.renewals_last_24h),
      provisioning_failures_last_24h: Number(row.provisioning_failures_last_24h),
    };
  }

  /** Cross-tenant: recorded requests and cost per tenant, all time (the day rollups), largest first, at most `top`. */
  spendByTenant(top: number, uow?: UnitOfWork): Promise<TenantSpendRow[]> {
    return this.manager(uow).query(
      `SELECT u.tenant_id, t.name, t.slug, sum(u.requests) AS requests, sum(u.cost) AS cost
           FROM usage_rollups u LEFT JOIN tenants t ON t.id = u.tenant_id
          WHERE u.granularity = 'day'
          GROUP BY u.tenant_id, t.name, t.slug
          ORDER BY cost DESC, requests DESC
          LIMIT $1`,
      [top],
    );
  }

  /**
   * Cross-tenant: every user's active key with a limit, and what this service recorded it spending (in any tenant)
   * since the key was created: the ledger up to the next whole hour, then hour rollups up to the next UTC midnight,
   * then day rollups.
   */
  limitedKeysWithRecordedSpend(uow?: UnitOfWork): Promise<LimitedKeyRow[]> {
    return this.manager(uow).query(
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
  }
}
