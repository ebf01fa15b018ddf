/**
 * The reconciliation's read model of which upstream OpenRouter keys this database still knows. It reads tables
 * libs/openrouter owns and writes none of them:
 * - openrouter_keys: the keys users hold (a referenced key is never an orphan);
 * - openrouter_key_deletions: the keys queued for deletion (the queue deletes them, not the reconciler).
 * The reconciler compares these against the upstream listing by hash, across every user.
 */
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { TableRepository, UnitOfWork } from '#libs/database';

@Injectable()
export class UpstreamKeyReferenceRepository extends TableRepository {
  constructor(@InjectDataSource() dataSource: DataSource) {
    super(dataSource);
  }

  /** Cross-table (openrouter_keys): the upstream hash of every key any user holds. */
  async referencedHashes(uow?: UnitOfWork): Promise<Set<string>> {
    const rows: { upstream_hash: string }[] = await this.manager(uow).query(
      `SELECT upstream_hash FROM openrouter_keys WHERE upstream_hash IS NOT NULL`,
    );
    return new Set(rows.map((r) => r.upstream_hash));
  }

  /** Cross-table (openrouter_keys, openrouter_key_deletions): whether a user holds the key or its deletion is queued. */
  async isReferencedOrQueued(hash: string, uow?: UnitOfWork): Promise<boolean> {
    const rows: unknown[] = await this.manager(uow).query(
      `SELECT 1 FROM openrouter_keys WHERE upstream_hash = $1 UNION ALL SELECT 1 FROM openrouter_key_deletions WHERE upstream_hash = $1`,
      [hash],
    );
    return rows.length > 0;
  }
}
