import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { TableRepository, type UnitOfWork } from '#libs/database';
import { addToRollupsSql } from '#libs/usage';
import type { LedgerRecord } from './usage-journal';

/**
 * `usage_records`, the raw ledger: written in batches by the recorder, pruned by retention (both across tenants).
 * Tenants read their usage through the rollups' reports (UsageRollupRepository.forTenant in #libs/usage).
 */
@Injectable()
export class UsageRecordRepository extends TableRepository {
  constructor(@InjectDataSource() dataSource: DataSource) {
    super(dataSource);
  }

  /**
   * Cross-tenant: a batch holds the records of every tenant that finished requests meanwhile (each row names its
   * tenant). One statement writes the ledger rows and adds exactly the rows it inserted to the rollups: both land
   * or neither does, so that reports (which read the rollups) always agree with the ledger. Idempotent on the
   * record's id: a batch retried, or a journal replayed after a kill, never writes a record (or its rollup) twice.
   */
  async insertBatch(records: LedgerRecord[], uow?: UnitOfWork): Promise<void> {
    const col = <T>(pick: (r: LedgerRecord) => T) => records.map(pick);
    await this.manager(uow).query(
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

  /**
   * Cross-tenant: retention removes every tenant's records created before `cutoff`, at most `limit` of them per
   * call (`ctid = ANY(…)`, found through the BRIN index on created_at: a short statement that locks only the rows
   * it removes). Returns how many it removed.
   */
  async pruneBatch(cutoff: Date, limit: number, uow?: UnitOfWork): Promise<number> {
    const [row]: { n: string }[] = await this.manager(uow).query(
      `WITH gone AS (
         DELETE FROM usage_records
          WHERE ctid = ANY(ARRAY(SELECT ctid FROM usage_records WHERE created_at < $1 LIMIT $2))
            AND created_at < $1
         RETURNING 1)
       SELECT count(*) AS n FROM gone`,
      [cutoff.toISOString(), limit],
    );
    return Number(row.n);
  }
}
