import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationShutdown, Optional } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { WriteBatcher } from '#libs/common';
import { Journal } from '#libs/journal';
import { UsageRecord } from './usage-record';
import { UsageRecordRepository } from './usage-record.repository';
import { usageJournal, type LedgerRecord } from './usage-journal';

// The recorder's repository and module, public with it (the lib's index exports this file).

/**
 * Records wait in memory this long for others to share their INSERT (a full batch of 500 goes at once);
 * GET /api/v1/usage and shutdown write them at once. A hard kill loses none: each is in the journal first.
 */
const USAGE_FLUSH_MS = 1_000;

/**
 * Appends usage records without holding up responses and without a database write on the request path:
 * records are queued in memory and written by a multi-row INSERT per batch (one round trip for however
 * many requests finished meanwhile).
 */
@Injectable()
export class UsageRecorder implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(UsageRecorder.name);
  private readonly batcher: WriteBatcher<LedgerRecord>;

  constructor(
    private readonly records: UsageRecordRepository,
    @Optional() journal?: Journal,
  ) {
    this.batcher = new WriteBatcher('usage records', (records) => this.insert(records), this.logger, {
      lingerMs: USAGE_FLUSH_MS,
      journal: journal?.channel(usageJournal((records) => this.insert(records))),
    });
  }

  /** Kept in the journal before this returns (the caller answers after), written to the ledger in a batch. */
  record(record: UsageRecord): void {
    this.batcher.add({ ...record, id: randomUUID() });
  }

  /** Everything recorded so far is written (or given up on). */
  drain(): Promise<void> {
    return this.batcher.drain();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.drain();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.drain().catch(() => undefined);
  }

  /** Ledger and rollups in one idempotent statement (see UsageRecordRepository.insertBatch). */
  private insert(records: LedgerRecord[]): Promise<void> {
    return this.records.insertBatch(records);
  }
}
