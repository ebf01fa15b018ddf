import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { TableRepository, type UnitOfWork } from '#libs/database';

/** `usage_ledger_state`: its one row, where the raw ledger is complete from. */
@Injectable()
export class UsageLedgerStateRepository extends TableRepository {
  constructor(@InjectDataSource() dataSource: DataSource) {
    super(dataSource);
  }

  async completeFrom(uow?: UnitOfWork): Promise<Date | null> {
    const rows: { complete_from: Date | null }[] = await this.manager(uow).query(
      `SELECT complete_from FROM usage_ledger_state WHERE id = 1`,
    );
    const value = rows[0]?.complete_from;
    return value ? new Date(value) : null;
  }

  /** Moves the mark forward, never back. */
  async advanceTo(at: Date, uow?: UnitOfWork): Promise<void> {
    await this.manager(uow).query(
      `UPDATE usage_ledger_state SET complete_from = greatest(coalesce(complete_from, $1::timestamptz), $1::timestamptz) WHERE id = 1`,
      [at.toISOString()],
    );
  }
}
