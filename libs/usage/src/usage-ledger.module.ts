import { Module } from '@nestjs/common';
import { UsageLedgerState } from './usage-ledger-state';
import { UsageRollupRebuilder } from './usage-rollup-rebuilder';

/**
 * The usage ledger's rollups, for the server (reports, retention) and the command line (usage:rebuild): where the
 * ledger is complete from, and the rebuild of a window from it.
 */
@Module({
  providers: [UsageLedgerState, UsageRollupRebuilder],
  exports: [UsageLedgerState, UsageRollupRebuilder],
})
export class UsageLedgerModule {}
