import { Module } from '@nestjs/common';
import { AppConfig } from '#libs/config';
import { UsageLedgerModule } from '#libs/usage';
import { UsageRecordsModule } from '../usage-records.module';
import {
  DEFAULT_RETENTION_BATCH,
  DEFAULT_RETENTION_PAUSE_MS,
  USAGE_RETENTION_OPTIONS,
  UsageRetention,
  UsageRetentionOptions,
} from './usage-retention';
import { UsageRetentionScheduler } from './usage-retention.scheduler';

/**
 * USAGE_RETENTION_DAYS, run hourly. The job lease comes from the global ReconciliationModule. Passes the ledger's
 * repository on (UsageRecordsModule) to the gateway module that imports it, for the recorder.
 */
@Module({
  imports: [UsageLedgerModule, UsageRecordsModule],
  providers: [
    UsageRetention,
    UsageRetentionScheduler,
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
  exports: [UsageRetention, UsageRecordsModule],
})
export class UsageRetentionModule {}
