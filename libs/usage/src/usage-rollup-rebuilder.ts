import { Injectable } from '@nestjs/common';
import { Transactions } from '#libs/database';
import { UsageLedgerStateRepository } from './usage-ledger-state.repository';
import { UsageRollupRepository } from './usage-rollup.repository';
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
    private readonly rollups: UsageRollupRepository,
    private readonly ledger: UsageLedgerStateRepository,
    private readonly transactions: Transactions,
  ) {}

  async rebuild(
    asked: { from?: Date; to?: Date },
    onProgress: (p: RebuildProgress) => void = () => undefined,
    now = new Date(),
  ): Promise<RebuildResult> {
    const completeFrom = await this.ledger.completeFrom();
    const from = floorTo(asked.from ?? (await this.rollups.firstLedgerRecordAt()) ?? now, DAY_MS);
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

  private rebuildDay(day: Date): Promise<{ records: number; rollups: number } | null> {
    const range = { from: day, to: new Date(day.getTime() + DAY_MS) };
    return this.transactions.run(async (uow) => {
      await this.rollups.lockForRebuild(uow);
      // Read under the lock: retention moves the mark while holding a conflicting one.
      const completeFrom = await this.ledger.completeFrom(uow);
      if (completeFrom && day < completeFrom) return null;
      await this.rollups.deleteRange(range, uow);
      return this.rollups.writeFromLedger(range, uow);
    });
  }
}
