import { Module } from '@nestjs/common';
import { UsageLedgerStateRepository } from './usage-ledger-state.repository';
import { UsageLedgerState } from './usage-ledger-state';
import { UsageRollupRebuilder } from './usage-rollup-rebuilder';
import { UsageRollupRepository } from './usage-rollup.repository';

/**
 * The usage ledger's rollups, for the server (reports, retention) and the command line (usage:rebuild): the
 * tenants' reports, where the ledger is complete from, and the rebuild of a window from it.
 */
@Module({
  providers: [UsageLedgerStateRepository, UsageRollupRepository, UsageLedgerState, UsageRollupRebuilder],
  exports: [UsageRollupRepository, UsageLedgerState, UsageRollupRebuilder],
})
export class UsageLedgerModule {}
