import { Injectable } from '@nestjs/common';
import { Transactions, type UnitOfWork } from '#libs/database';
import { UsageLedgerStateRepository } from './usage-ledger-state.repository';
import { UsageRollupRepository } from './usage-rollup.repository';

/**
 * Where the raw ledger is complete from: retention removes whole UTC days before this instant (null: nothing was
 * ever removed). Rollups before it can no longer be rebuilt, and reports cannot read partial hours before it.
 */
@Injectable()
export class UsageLedgerState {
  constructor(
    private readonly state: UsageLedgerStateRepository,
    private readonly rollups: UsageRollupRepository,
    private readonly transactions: Transactions,
  ) {}

  completeFrom(uow?: UnitOfWork): Promise<Date | null> {
    return this.state.completeFrom(uow);
  }

  /**
   * Moves the mark forward to `at` (never back), before the first record older than `at` is deleted. It waits out
   * a rollup rebuild in progress, so that no rebuild reads a half-pruned day.
   */
  markCompleteFrom(at: Date): Promise<void> {
    return this.transactions.run(async (uow) => {
      await this.rollups.lockAgainstRebuild(uow);
      await this.state.advanceTo(at, uow);
    });
  }
}
