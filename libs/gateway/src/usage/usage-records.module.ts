import { Module } from '@nestjs/common';
import { UsageRecordRepository } from './usage-record.repository';

/** The raw usage ledger's repository, for the recorder and for retention. */
@Module({
  providers: [UsageRecordRepository],
  exports: [UsageRecordRepository],
})
export class UsageRecordsModule {}
