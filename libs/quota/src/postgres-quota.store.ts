import { DataSource } from 'typeorm';
import type { JournalMark } from '#libs/common';
import type { QuotaWindow } from './quota-period';
import { QuotaStore, RESERVATION_TTL_MS, ReserveInput, ReserveResult, Settlement } from './quota.store';

/**
 * Counters in PostgreSQL (`quota_counters`, one row per key and window), used when Redis is not
 * configured. Reservations are a sum per row rather than rows of their own, so that granting is one
 * conditional upsert; `reserved_until` makes reservations of a crashed process lapse once no new
 * reservation has been taken for RESERVATION_TTL_MS.
 */
export class PostgresQuotaStore implements QuotaStore {
  readonly kind = 'postgres' as const;

  constructor(private readonly dataSource: DataSource) {}

  async reserve(input: ReserveInput): Promise<ReserveResult> {
    // One statement: the row lock taken by the upsert serialises concurrent reservations, and the WHERE
    // is evaluated again on the row as the previous reservation left it.
    const rows: { used: string }[] = await this.dataSource.query(
      `INSERT INTO quota_counters AS c (api_key_id, period, window_start, used, reserved, reserved_until)
       VALUES ($1, $2, $3, 0, $4, now() + ($6 || ' milliseconds')::interval)
       ON CONFLICT (api_key_id, period, window_start) DO UPDATE
         SET reserved = (CASE WHEN c.reserved_until > now() THEN c.reserved ELSE 0 END) + excluded.reserved,
             reserved_until = excluded.reserved_until,
             updated_at = now()
         WHERE c.used + (CASE WHEN c.reserved_until > now() THEN c.reserved ELSE 0 END) < $5
       RETURNING c.used`,
      [input.apiKeyId, input.window.period, input.window.start, input.tokens, input.quota, String(RESERVATION_TTL_MS)],
    );
    if (rows.length > 0) return { granted: true, used: Number(rows[0].used) };
    return { granted: false, used: (await this.used([{ apiKeyId: input.apiKeyId, window: input.window }]))[0] };
  }

  settle(settlements: Settlement[], mark?: JournalMark | null): Promise<void> {
    return this.settleMarked(settlements, mark ? [mark] : []);
  }

  /** Settles, and records the crash journals' marks in the same transaction (see QuotaStore.settle). */
  async settleMarked(settlements: Settlement[], marks: JournalMark[]): Promise<void> {
    // Aggregated per row first: one upsert may not touch a row twice.
    const rows = new Map<string, { apiKeyId: string; window: QuotaWindow; used: number; release: number }>();
    const row = (apiKeyId: string, window: QuotaWindow) => {
      const id = `${apiKeyId}|${window.period}|${window.start.getTime()}`;
      let r = rows.get(id);
      if (!r) rows.set(id, (r = { apiKeyId, window, used: 0, release: 0 }));
      return r;
    };
    for (const s of settlements) {
      if (s.tokens > 0) for (const w of s.windows) row(s.apiKeyId, w).used += s.tokens;
      if (s.reservation) row(s.apiKeyId, s.reservation.window).release += s.reservation.tokens;
    }
    // Sorted: every instance locks rows in the same order, so that two batches cannot deadlock.
    const list = [...rows.entries()]
      .filter(([, r]) => r.used > 0 || r.release > 0)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, r]) => r);
    if (list.length === 0 && marks.length === 0) return;
    if (marks.length === 0) return this.upsertCounters(this.dataSource, list);
    await this.dataSource.transaction(async (m) => {
      if (list.length > 0) await this.upsertCounters(m, list);
      await m.query(
        `INSERT INTO journal_marks AS j (journal, channel, position)
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
         ON CONFLICT (journal, channel) DO UPDATE SET position = greatest(j.position, excluded.position), updated_at = now()`,
        [marks.map((k) => k.journal), marks.map((k) => k.channel), marks.map((k) => k.position)],
      );
    });
  }

  async journalMark(journal: string, channel: string): Promise<number> {
    const rows: { position: string }[] = await this.dataSource.query(
      `SELECT position FROM journal_marks WHERE journal = $1 AND channel = $2`,
      [journal, channel],
    );
    return rows.length > 0 ? Number(rows[0].position) : 0;
  }

  private async upsertCounters(
    runner: { query: DataSource['query'] },
    list: { apiKeyId: string; window: QuotaWindow; used: number; release: number }[],
  ): Promise<void> {
    await runner.query(
      `WITH d AS (
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::bigint[], $5::bigint[])
           AS t(api_key_id, period, window_start, used, release)
       )
       INSERT INTO quota_counters AS c (api_key_id, period, window_start, used, reserved)
       SELECT api_key_id, period, window_start, used, 0 FROM d
       ON CONFLICT (api_key_id, period, window_start) DO UPDATE
         SET used = c.used + excluded.used,
             reserved = CASE WHEN c.reserved_until > now()
               THEN greatest(0, c.reserved - (SELECT d.release FROM d
                 WHERE d.api_key_id = c.api_key_id AND d.period = c.period AND d.window_start = c.window_start))
               ELSE 0 END,
             updated_at = now()`,
      [
        list.map((r) => r.apiKeyId),
        list.map((r) => r.window.period),
        list.map((r) => r.window.start.toISOString()),
        list.map((r) => r.used),
        list.map((r) => r.release),
      ],
    );
  }

  async used(keys: { apiKeyId: string; window: QuotaWindow }[]): Promise<number[]> {
    if (keys.length === 0) return [];
    const rows: { api_key_id: string; period: string; window_start: Date; used: string }[] =
      await this.dataSource.query(
        `SELECT c.api_key_id, c.period, c.window_start, c.used
         FROM quota_counters c
         JOIN unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS k(api_key_id, period, window_start)
           ON c.api_key_id = k.api_key_id AND c.period = k.period AND c.window_start = k.window_start`,
        [keys.map((k) => k.apiKeyId), keys.map((k) => k.window.period), keys.map((k) => k.window.start.toISOString())],
      );
    const found = new Map(
      rows.map((r) => [`${r.api_key_id}|${r.period}|${new Date(r.window_start).getTime()}`, Number(r.used)]),
    );
    return keys.map((k) => found.get(`${k.apiKeyId}|${k.window.period}|${k.window.start.getTime()}`) ?? 0);
  }

  /** Forgets day and month counters long over; `total` ones stay. */
  async prune(olderThanDays: number): Promise<number> {
    const result: [unknown[], number] = await this.dataSource.query(
      `DELETE FROM quota_counters WHERE period <> 'total' AND window_start < now() - ($1 || ' days')::interval`,
      [String(olderThanDays)],
    );
    return Array.isArray(result) && typeof result[1] === 'number' ? result[1] : 0;
  }
}
