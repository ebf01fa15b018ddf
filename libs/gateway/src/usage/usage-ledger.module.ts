import { Module } from '@nestjs/common';
import { AppConfig } from '#libs/config';
import { UsageLedgerState } from './rollups/usage-ledger-state';
import { UsageRollupRebuilder } from './rollups/usage-rollup-rebuilder';
import {
  DEFAULT_RETENTION_BATCH,
  DEFAULT_RETENTION_PAUSE_MS,
  USAGE_RETENTION_OPTIONS,
  UsageRetention,
  UsageRetentionOptions,
} from './retention/usage-retention';

/**
 * Upkeep of the usage ledger and its rollups, for the server (retention on a schedule) and the command line
 * (usage:rebuild). The job lease comes from the global ReconciliationModule both of them import.
 */
@Module({
  providers: [
    UsageLedgerState,
    UsageRollupRebuilder,
    UsageRetention,
    {
      provide: USAGE_RETENTION_OPTIONS,
      inject: [AppConfig],
      useFactory: (config: AppConfig): UsageRetentionOptions => ({
        days: config.usageRetentionDays,
        batchSize: DEFAULT_RETENTION_BATCH,
        pauseMs: DEFAULT_RETENTION_PAUSE_MS,
      }),
    },
  ],
  exports: [UsageLedgerState, UsageRollupRebuilder, UsageRetention],
})
export class UsageLedgerModule {}
