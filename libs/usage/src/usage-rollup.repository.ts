import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { TableRepository, TenantScope, type UnitOfWork } from '#libs/database';
import { REPLACE_ROLLUPS_FROM_LEDGER_SQL } from './usage-rollup.sql';
import type { TimeRange } from './usage-window';
import { platformSpendSql, windowPiecesSql, type WindowSelect } from './usage-window.sql';

/** What a report groups by. */
export type UsageReportKey = 'day' | 'api_key' | 'user' | 'model';

/** A report's row as the database sums it (bigint and numeric come as strings); `key` null is a group of nulls. */
export interface UsageSumsRow {
  key: string | null;
  requests: string | null;
  prompt_tokens: string | null;
  completion_tokens: string | null;
  total_tokens: string | null;
  cost: string | null;
}

export interface UsageReportRows {
  /** One row per group, in key order (nulls last). */
  groups: UsageSumsRow[];
  /** Sums over every group; undefined when the window holds nothing. */
  totals: UsageSumsRow | undefined;
}

/**
 * Fixed SQL per grouping: never built from input. Days are grouped as timestamps (see WindowSelect) and formatted
 * once per group: to_char, and even date_trunc in a time zone, on every row cost more than the rest of the query.
 */
const KEY: Record<UsageReportKey, WindowSelect['key']> = {
  day: 'day',
  api_key: { day: 'api_key_id::text', hour: 'api_key_id::text', ledger: 'api_key_id::text' },
  user: { day: 'user_id::text', hour: 'user_id::text', ledger: 'user_id::text' },
  model: { day: 'model', hour: 'model', ledger: 'model' },
};
const OUTPUT_KEY: Record<UsageReportKey, string> = {
  day: `to_char(key AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
  api_key: 'key',
  user: 'key',
  model: 'key',
};

/** One tenant's usage: every statement is scoped to the tenant the view was made for. */
export class TenantUsageRollups {
  constructor(
    private readonly scope: TenantScope,
    private readonly manager: (uow?: UnitOfWork) => EntityManager,
  ) {}

  /**
   * The tenant's usage over `window` grouped by `key`: the window's pieces (rollups and edge ledger rows, see
   * splitWindow; a cross-table read of usage_records) summed per group; ROLLUP adds the totals row, summed exactly
   * in SQL. A group that a subtracted piece cancels out holds no request in the window and is left out.
   */
  async report(key: UsageReportKey, window: TimeRange, uow?: UnitOfWork): Promise<UsageReportRows> {
    const params: unknown[] = [this.scope.tenantId];
    const pieces = windowPiecesSql(window, { key: KEY[key], where: 'tenant_id = $1' }, params);
    const rows: (UsageSumsRow & { is_total: number | string })[] = await this.manager(uow).query(
      `SELECT ${OUTPUT_KEY[key]} AS key, GROUPING(key) AS is_total, sum(requests) AS requests,
              sum(prompt_tokens) AS prompt_tokens, sum(completion_tokens) AS completion_tokens,
              sum(total_tokens) AS total_tokens, sum(cost) AS cost
         FROM (${pieces}) parts
        GROUP BY ROLLUP (key)
       HAVING GROUPING(key) = 1 OR sum(requests) <> 0
        ORDER BY GROUPING(key), parts.key NULLS LAST`,
      params,
    );
    const strip = ({ is_total: _, ...sums }: UsageSumsRow & { is_total: unknown }): UsageSumsRow => sums;
    return {
      groups: rows.filter((r) => Number(r.is_total) !== 1).map(strip),
      totals: rows.filter((r) => Number(r.is_total) === 1).map(strip)[0],
    };
  }
}

/**
 * `usage_rollups`: the ledger summed per tenant, key, user, model and UTC hour and day. Tenants read theirs through
 * `forTenant`; the recorder adds to them in its own statement (see addToRollupsSql); the rebuild and the admin
 * statistics are the named cross-tenant methods below.
 */
@Injectable()
export class UsageRollupRepository extends TableRepository {
  constructor(@InjectDataSource() dataSource: DataSource) {
    super(dataSource);
  }

  forTenant(tenantId: string): TenantUsageRollups {
    return new TenantUsageRollups(TenantScope.of(tenantId), (uow) => this.manager(uow));
  }

  /** Cross-tenant: admin statistics, requests and cost of every tenant over a window (exact as reports are). */
  async platformSpend(window: TimeRange, uow?: UnitOfWork): Promise<{ requests: string; cost: string }> {
    const { sql, params } = platformSpendSql(window);
    const [row]: { requests: string; cost: string }[] = await this.manager(uow).query(sql, params);
    return row;
  }

  /**
   * Held by a rebuild for its transaction: conflicts with the recorder's writes (which wait for it) and with
   * lockAgainstRebuild.
   */
  async lockForRebuild(uow: UnitOfWork): Promise<void> {
    await this.manager(uow).query(`LOCK TABLE usage_rollups IN SHARE ROW EXCLUSIVE MODE`);
  }

  /** Conflicts with lockForRebuild only: waits out a rebuild in progress, writers go on. */
  async lockAgainstRebuild(uow: UnitOfWork): Promise<void> {
    await this.manager(uow).query(`LOCK TABLE usage_rollups IN ROW EXCLUSIVE MODE`);
  }

  /** Cross-tenant: the rebuild of a window replaces every tenant's rollups in it; this removes them first. */
  async deleteRange(range: TimeRange, uow: UnitOfWork): Promise<void> {
    await this.manager(uow).query(`DELETE FROM usage_rollups WHERE bucket_start >= $1 AND bucket_start < $2`, [
      range.from.toISOString(),
      range.to.toISOString(),
    ]);
  }

  /**
   * Cross-tenant: the rebuild writes the rollups of every tenant's ledger rows created in `range` (a cross-table
   * read of usage_records). Returns the rollup rows written and the records they count.
   */
  async writeFromLedger(range: TimeRange, uow: UnitOfWork): Promise<{ records: number; rollups: number }> {
    const [row]: { rollups: string; records: string }[] = await this.manager(uow).query(
      `WITH written AS (${REPLACE_ROLLUPS_FROM_LEDGER_SQL} RETURNING granularity, requests)
       SELECT count(*) AS rollups, coalesce(sum(requests) FILTER (WHERE granularity = 'day'), 0) AS records
         FROM written`,
      [range.from.toISOString(), range.to.toISOString()],
    );
    return { records: Number(row.records), rollups: Number(row.rollups) };
  }

  /** Cross-tenant: where a rebuild without a start begins, the ledger's first record (a cross-table read). */
  async firstLedgerRecordAt(uow?: UnitOfWork): Promise<Date | null> {
    const [row]: { first: Date | null }[] = await this.manager(uow).query(
      `SELECT min(created_at) AS first FROM usage_records`,
    );
    return row?.first ? new Date(row.first) : null;
  }
}
