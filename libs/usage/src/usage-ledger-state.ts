import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

/**
 * Where the raw ledger is complete from: retention removes whole UTC days before this instant (null: nothing was
 * ever removed). Rollups before it can no longer be rebuilt, and reports cannot read partial hours before it.
 */
@Injectable()
export class UsageLedgerState {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async completeFrom(manager: EntityManager = this.dataSource.manager): Promise<Date | null> {
    const rows: { complete_from: Date | null }[] = await manager.query(
      `SELECT complete_from FROM usage_ledger_state WHERE id = 1`,
    );
    const value = rows[0]?.complete_from;
    return value ? new Date(value) : null;
  }

  /** Moves the mark forward, never back; done before the first record older than `at` is deleted. */
  async advanceTo(at: Date, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await manager.query(
      `UPDATE usage_ledger_state SET complete_from = greatest(coalesce(complete_from, $1::timestamptz), $1::timestamptz) WHERE id = 1`,
      [at.toISOString()],
    );
  }
}
