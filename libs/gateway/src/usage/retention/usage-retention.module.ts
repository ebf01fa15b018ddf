import { Module } from '@nestjs/common';
import { AppConfig } from '#libs/config';
import { UsageLedgerModule } from '#libs/usage';
import {
  DEFAULT_RETENTION_BATCH,
  DEFAULT_RETENTION_PAUSE_MS,
  USAGE_RETENTION_OPTIONS,
  UsageRetention,
  UsageRetentionOptions,
} from './usage-retention';
import { UsageRetentionScheduler } from './usage-retention.scheduler';

/** USAGE_RETENTION_DAYS, run hourly. The job lease comes from the global ReconciliationModule. */
@Module({
  imports: [UsageLedgerModule],
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
  exports: [UsageRetention],
})
export class UsageRetentionModule {}
