import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { JournalMark } from '#libs/common';
import { TableRepository, Transactions, type UnitOfWork } from '#libs/database';
import { JournalMarkRepository } from './journal-mark.repository';
import type { QuotaWindow } from './quota-period';
import { RESERVATION_TTL_MS, ReserveInput } from './quota.store';

/** What one statement adds to a key's counter row. */
export interface KeyCounterDelta {
  apiKeyId: string;
  window: QuotaWindow;
  used: number;
  spentMicros: number;
  /** Reserved tokens to release. */
  release: number;
}

/** What one statement adds to a tenant's spend row. */
export interface TenantSpendDelta {
  tenantId: string;
  window: QuotaWindow;
  spentMicros: number;
}

export const rowId = (id: string, w: QuotaWindow) => `${id}|${w.period}|${w.start.getTime()}`;
const byId = <T>([a]: [string, T], [b]: [string, T]) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The counters in PostgreSQL: `quota_counters` (one row per key and window: tokens, reserved tokens, spend) and
 * `tenant_spend_counters` (one row per tenant and window). Both tables are here because one statement adds to
 * both: a batch of settlements is one round trip. Reservations are a sum per row rather than rows of their own,
 * so that granting is one conditional upsert; `reserved_until` makes reservations of a crashed process lapse once
 * no new reservation has been taken for RESERVATION_TTL_MS.
 */
@Injectable()
export class QuotaCounterRepository extends TableRepository {
  private readonly transactions: Transactions;
  private readonly marks: JournalMarkRepository;

  constructor(@InjectDataSource() dataSource: DataSource) {
    super(dataSource);
    // The journal's marks are written in the counters' transaction; both on this data source.
    this.transactions = new Transactions(dataSource);
    this.marks = new JournalMarkRepository(dataSource);
  }

  /**
   * Reserves `tokens` while settled usage plus live reservations are below the quota. The settled tokens of the
   * window when granted, null when refused.
   */
  async reserveTokens(input: ReserveInput): Promise<number | null> {
    // One statement: the row lock taken by the upsert serialises concurrent reservations, and the WHERE
    // is evaluated again on the row as the previous reservation left it.
    const rows: { used: string }[] = await this.manager().query(
      `INSERT INTO quota_counters AS c (api_key_id, period, window_start, used, reserved, reserved_until)
       VALUES ($1, $2, $3, 0, $4, now() + ($6 || ' milliseconds')::interval)
       ON CONFLICT (api_key_id, period, window_start) DO UPDATE
         SET reserved = (CASE WHEN c.reserved_until > now() THEN c.reserved ELSE 0 END) + excluded.reserved,
             reserved_until = excluded.reserved_until,
             updated_at = now()
         WHERE c.used + (CASE WHEN c.reserved_until > now() THEN c.reserved ELSE 0 END) < $5
       RETURNING c.used`,
      [
        input.apiKeyId,
        input.window.period,
        input.window.start.toISOString(),
        input.tokens,
        input.quota,
        String(RESERVATION_TTL_MS),
      ],
    );
    return rows.length > 0 ? Number(rows[0].used) : null;
  }

  /**
   * Adds to key and tenant rows in one statement (all of it or none of it, so a failed write can simply be
   * retried). Rows are locked in sorted order, so that two instances' batches cannot deadlock. The journal's
   * marks, when given, are written in the same transaction.
   */
  async write(
    keyDeltas: KeyCounterDelta[],
    tenantDeltas: TenantSpendDelta[],
    marks: JournalMark[] = [],
  ): Promise<void> {
    const k = keyDeltas
      .filter((r) => r.used > 0 || r.spentMicros > 0 || r.release > 0)
      .map((r) => [rowId(r.apiKeyId, r.window), r] as [string, KeyCounterDelta])
      .sort(byId)
      .map(([, r]) => r);
    const t = tenantDeltas
      .filter((r) => r.spentMicros > 0)
      .map((r) => [rowId(r.tenantId, r.window), r] as [string, TenantSpendDelta])
      .sort(byId)
      .map(([, r]) => r);
    if (k.length === 0 && t.length === 0 && marks.length === 0) return;
    if (marks.length === 0) return this.writeCounters(k, t);
    // The crash journal's marks in the same transaction as the counters they account for.
    await this.transactions.run(async (uow) => {
      if (k.length > 0 || t.length > 0) await this.writeCounters(k, t, uow);
      await this.marks.advance(uow, marks);
    });
  }

  /** The position recorded with the counters for a journal's channel (0: none). */
  journalMark(journal: string, channel: string): Promise<number> {
    return this.marks.position(journal, channel);
  }

  private async writeCounters(k: KeyCounterDelta[], t: TenantSpendDelta[], uow?: UnitOfWork): Promise<void> {
    await this.manager(uow).query(
      `WITH d AS (
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::bigint[], $5::bigint[], $6::bigint[])
           AS t(api_key_id, period, window_start, used, release, spent)
       ), keys AS (
         INSERT INTO quota_counters AS c (api_key_id, period, window_start, used, reserved, spent_micros)
         SELECT api_key_id, period, window_start, used, 0, spent FROM d
         ON CONFLICT (api_key_id, period, window_start) DO UPDATE
           SET used = c.used + excluded.used,
               spent_micros = c.spent_micros + excluded.spent_micros,
               reserved = CASE WHEN c.reserved_until > now()
                 THEN greatest(0, c.reserved - (SELECT d.release FROM d
                   WHERE d.api_key_id = c.api_key_id AND d.period = c.period AND d.window_start = c.window_start))
                 ELSE 0 END,
               updated_at = now()
         RETURNING 1
       ), tenants AS (
         INSERT INTO tenant_spend_counters AS s (tenant_id, period, window_start, spent_micros)
         SELECT * FROM unnest($7::uuid[], $8::text[], $9::timestamptz[], $10::bigint[])
         ON CONFLICT (tenant_id, period, window_start) DO UPDATE
           SET spent_micros = s.spent_micros + excluded.spent_micros, updated_at = now()
         RETURNING 1
       )
       SELECT (SELECT count(*) FROM keys) AS keys, (SELECT count(*) FROM tenants) AS tenants`,
      [
        k.map((r) => r.apiKeyId),
        k.map((r) => r.window.period),
        k.map((r) => r.window.start.toISOString()),
        k.map((r) => r.used),
        k.map((r) => r.release),
        k.map((r) => r.spentMicros),
        t.map((r) => r.tenantId),
        t.map((r) => r.window.period),
        t.map((r) => r.window.start.toISOString()),
        t.map((r) => r.spentMicros),
      ],
    );
  }

  /** Tokens and spend of each (key, window); 0 for rows that do not exist. */
  async keyCounters(
    keys: { apiKeyId: string; window: QuotaWindow }[],
  ): Promise<{ used: number; spentMicros: number }[]> {
    if (keys.length === 0) return [];
    const rows: { api_key_id: string; period: string; window_start: Date; used: string; spent_micros: string }[] =
      await this.manager().query(
        `SELECT c.api_key_id, c.period, c.window_start, c.used, c.spent_micros
         FROM quota_counters c
         JOIN unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS k(api_key_id, period, window_start)
           ON c.api_key_id = k.api_key_id AND c.period = k.period AND c.window_start = k.window_start`,
        [keys.map((k) => k.apiKeyId), keys.map((k) => k.window.period), keys.map((k) => k.window.start.toISOString())],
      );
    const found = new Map(
      rows.map((r) => [
        `${r.api_key_id}|${r.period}|${new Date(r.window_start).getTime()}`,
        { used: Number(r.used), spentMicros: Number(r.spent_micros) },
      ]),
    );
    return keys.map((k) => found.get(rowId(k.apiKeyId, k.window)) ?? { used: 0, spentMicros: 0 });
  }

  /** Spend of each tenant and window; 0 for rows that do not exist. */
  async tenantSpent(keys: { tenantId: string; window: QuotaWindow }[]): Promise<number[]> {
    if (keys.length === 0) return [];
    const rows: { tenant_id: string; period: string; window_start: Date; spent_micros: string }[] =
      await this.manager().query(
        `SELECT s.tenant_id, s.period, s.window_start, s.spent_micros
         FROM tenant_spend_counters s
         JOIN unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS k(tenant_id, period, window_start)
           ON s.tenant_id = k.tenant_id AND s.period = k.period AND s.window_start = k.window_start`,
        [keys.map((k) => k.tenantId), keys.map((k) => k.window.period), keys.map((k) => k.window.start.toISOString())],
      );
    const found = new Map(
      rows.map((r) => [`${r.tenant_id}|${r.period}|${new Date(r.window_start).getTime()}`, Number(r.spent_micros)]),
    );
    return keys.map((k) => found.get(rowId(k.tenantId, k.window)) ?? 0);
  }

  /** Forgets day and month counters long over; `total` ones stay. */
  async prune(olderThanDays: number): Promise<number> {
    let deleted = 0;
    for (const table of ['quota_counters', 'tenant_spend_counters']) {
      const result: [unknown[], number] = await this.manager().query(
        `DELETE FROM ${table} WHERE period <> 'total' AND window_start < now() - ($1 || ' days')::interval`,
        [String(olderThanDays)],
      );
      deleted += Array.isArray(result) && typeof result[1] === 'number' ? result[1] : 0;
    }
    return deleted;
  }
}
