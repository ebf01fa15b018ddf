import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationShutdown, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { WriteBatcher } from '#libs/common';
import { Journal } from '#libs/journal';
import { UsageRecord } from './usage-record';
import { addToRollupsSql } from '#libs/usage';
import { usageJournal, type LedgerRecord } from './usage-journal';

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
    @InjectDataSource() private readonly dataSource: DataSource,
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

  /**
   * One statement writes the ledger rows and adds exactly the rows it inserted to the rollups: both land or
   * neither does, so that reports (which read the rollups) always agree with the ledger. Idempotent on the
   * record's id: a batch retried, or a journal replayed after a kill, never writes a record (or its rollup) twice.
   */
  private async insert(records: LedgerRecord[]): Promise<void> {
    const col = <T>(pick: (r: LedgerRecord) => T) => records.map(pick);
    await this.dataSource.query(
      `WITH inserted AS (
         INSERT INTO usage_records (tenant_id, user_id, api_key_id, request_id, model, prompt_tokens, completion_tokens,
           total_tokens, cost, status_code, outcome, error_code, stream, key_renewed, usage_estimated, latency_ms,
           created_at, route, id)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::integer[], $7::integer[],
           $8::integer[], $9::numeric[], $10::smallint[], $11::text[], $12::text[], $13::boolean[], $14::boolean[],
           $15::boolean[], $16::integer[], $17::timestamptz[], $18::text[], $19::uuid[])
         ON CONFLICT (id) DO NOTHING
         RETURNING tenant_id, api_key_id, user_id, model, prompt_tokens, completion_tokens, total_tokens, cost, created_at
       )
       ${addToRollupsSql('inserted')}`,
      [
        col((r) => r.tenantId),
        col((r) => r.userId),
        col((r) => r.apiKeyId),
        col((r) => r.requestId),
        col((r) => r.model),
        col((r) => r.promptTokens),
        col((r) => r.completionTokens),
        col((r) => r.totalTokens),
        col((r) => r.cost),
        col((r) => r.statusCode),
        col((r) => r.outcome),
        col((r) => r.errorCode),
        col((r) => r.stream),
        col((r) => r.keyRenewed),
        col((r) => r.usageEstimated),
        col((r) => r.latencyMs),
        col((r) => r.createdAt.toISOString()),
        col((r) => r.route ?? null),
        col((r) => r.id),
      ],
    );
  }
}
