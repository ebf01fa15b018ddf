import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { REPLACE_ROLLUPS_FROM_LEDGER_SQL } from './usage-rollup.sql';
import { UsageLedgerState } from './usage-ledger-state';
import { ceilTo, DAY_MS, floorTo, TimeRange } from './usage-window';

export interface RebuildProgress {
  day: Date;
  done: number;
  of: number;
  /** Ledger records the day holds. */
  records: number;
  /** Rollup rows written for it (hours and the day). */
  rollups: number;
}

export interface RebuildResult {
  /** The whole UTC days rebuilt; null when there was nothing to rebuild. */
  window: TimeRange | null;
  days: number;
  records: number;
  /** Set when the asked window began before the ledger is complete: that part was left as it is. */
  keptBefore: Date | null;
}

/**
 * Rebuilds the rollups of a window from the ledger, a UTC day per transaction (the day's rollup row needs all its
 * hours): delete the day's hour and day rows, write them again from the ledger. Idempotent. The transaction locks
 * the rollups against writes (SHARE ROW EXCLUSIVE, which the recorder's statement waits for), so a batch written
 * meanwhile is either in the ledger the rebuild reads or added after it, never both or neither. Days before the
 * point the ledger is complete from (retention removed their records) are never touched: their rollups are all
 * that is left of them.
 */
@Injectable()
export class UsageRollupRebuilder {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly ledger: UsageLedgerState,
  ) {}

  async rebuild(
    asked: { from?: Date; to?: Date },
    onProgress: (p: RebuildProgress) => void = () => undefined,
    now = new Date(),
  ): Promise<RebuildResult> {
    const completeFrom = await this.ledger.completeFrom();
    const from = floorTo(asked.from ?? (await this.firstRecordAt()) ?? now, DAY_MS);
    const to = ceilTo(asked.to ?? now, DAY_MS);
    const start = completeFrom && completeFrom > from ? completeFrom : from;
    const keptBefore = start > from ? start : null;
    if (start >= to) return { window: null, days: 0, records: 0, keptBefore };

    const of = Math.round((to.getTime() - start.getTime()) / DAY_MS);
    let records = 0;
    let done = 0;
    for (let day = start; day < to; day = new Date(day.getTime() + DAY_MS)) {
      const written = await this.rebuildDay(day);
      if (written === null) continue; // retention reached this day meanwhile
      records += written.records;
      onProgress({ day, done: ++done, of, ...written });
    }
    return { window: { from: start, to }, days: done, records, keptBefore };
  }

  private async rebuildDay(day: Date): Promise<{ records: number; rollups: number } | null> {
    const end = new Date(day.getTime() + DAY_MS);
    return this.dataSource.transaction(async (manager) => {
      await manager.query(`LOCK TABLE usage_rollups IN SHARE ROW EXCLUSIVE MODE`);
      // Read under the lock: retention moves the mark while holding a conflicting one.
      const completeFrom = await this.ledger.completeFrom(manager);
      if (completeFrom && day < completeFrom) return null;
      await manager.query(`DELETE FROM usage_rollups WHERE bucket_start >= $1 AND bucket_start < $2`, [
        day.toISOString(),
        end.toISOString(),
      ]);
      const [row]: { rollups: string; records: string }[] = await manager.query(
        `WITH written AS (${REPLACE_ROLLUPS_FROM_LEDGER_SQL} RETURNING granularity, requests)
         SELECT count(*) AS rollups, coalesce(sum(requests) FILTER (WHERE granularity = 'day'), 0) AS records
           FROM written`,
        [day.toISOString(), end.toISOString()],
      );
      return { records: Number(row.records), rollups: Number(row.rollups) };
    });
  }

  private async firstRecordAt(): Promise<Date | null> {
    const [row]: { first: Date | null }[] = await this.dataSource.query(
      `SELECT min(created_at) AS first FROM usage_records`,
    );
    return row?.first ? new Date(row.first) : null;
  }
}
