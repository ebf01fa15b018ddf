import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { entityManagerOf, type UnitOfWork, unitOfWorkOf } from '#libs/database';
import { AuditService, SYSTEM_ACTOR } from '#libs/audit';
import { OpenRouterClient, OpenRouterError } from '../client';
import { OpenRouterKeyDeletion } from './openrouter-key-deletion.entity';

/**
 * Upstream keys that must be deleted at OpenRouter. A key is queued in the same transaction that
 * replaces it, so that a failed or interrupted deletion is retried later and never forgotten.
 */
@Injectable()
export class KeyDeletionQueue {
  private readonly logger = new Logger(KeyDeletionQueue.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly client: OpenRouterClient,
    private readonly audit: AuditService,
  ) {}

  async enqueue(manager: EntityManager, upstreamHash: string, userId: string | null, reason: string): Promise<void> {
    await manager.query(
      `INSERT INTO openrouter_key_deletions (upstream_hash, user_id, reason) VALUES ($1, $2, $3) ON CONFLICT (upstream_hash) DO NOTHING`,
      [upstreamHash, userId, reason],
    );
  }

  /**
   * The user is gone (deleted in Clerk): their key row becomes 'disabled' (inserted if missing, which
   * also stops the login hook from provisioning a new one) and their upstream key is queued for
   * deletion, in the caller's transaction. Returns the queued hash (delete it with deleteNow after the
   * commit), or null when they had none.
   */
  async disableUserKey(uow: UnitOfWork, userId: string, reason: string): Promise<string | null> {
    const manager = entityManagerOf(uow);
    const rows: { upstream_hash: string | null }[] = await manager.query(
      `SELECT upstream_hash FROM openrouter_keys WHERE user_id = $1 FOR UPDATE`,
      [userId],
    );
    const hash = rows[0]?.upstream_hash ?? null;
    await manager.query(
      `INSERT INTO openrouter_keys (user_id, status) VALUES ($1, 'disabled')
       ON CONFLICT (user_id) DO UPDATE SET status = 'disabled', key_encrypted = NULL, upstream_hash = NULL, label = NULL,
         last_error_code = NULL, updated_at = now()`,
      [userId],
    );
    if (hash) await this.enqueue(manager, hash, userId, reason);
    return hash;
  }

  /** Deletes one queued key upstream now; on failure it stays queued with a later attempt time. */
  async deleteNow(upstreamHash: string): Promise<boolean> {
    try {
      await this.client.deleteKey(upstreamHash);
    } catch (err) {
      const code = err instanceof OpenRouterError ? err.code : 'unexpected_error';
      await this.dataSource.query(
        `UPDATE openrouter_key_deletions SET attempts = attempts + 1, last_error_code = $2,
           next_attempt_at = now() + (least(3600, 30 * power(2, least(attempts, 7))) || ' seconds')::interval
         WHERE upstream_hash = $1`,
        [upstreamHash, code],
      );
      this.logger.warn(`Deleting replaced OpenRouter key ${upstreamHash} failed (${code}); it stays queued`);
      return false;
    }
    await this.dataSource.transaction(async (m) => {
      const rows = await m.query(`DELETE FROM openrouter_key_deletions WHERE upstream_hash = $1 RETURNING user_id`, [
        upstreamHash,
      ]);
      const userId = (Array.isArray(rows[0]) ? rows[0][0] : rows[0])?.user_id ?? null;
      await this.audit.record(
        {
          action: 'openrouter_key.deleted',
          actor: SYSTEM_ACTOR,
          target: { type: 'openrouter_key', id: upstreamHash },
          metadata: { user_id: userId },
        },
        unitOfWorkOf(m),
      );
    });
    return true;
  }

  /** Retries the deletions that are due; returns how many succeeded. */
  async retryDue(limit = 50): Promise<{ attempted: number; deleted: number }> {
    const due = await this.dataSource
      .getRepository(OpenRouterKeyDeletion)
      .createQueryBuilder('d')
      .where('d.next_attempt_at <= now()')
      .orderBy('d.next_attempt_at', 'ASC')
      .limit(limit)
      .getMany();
    let deleted = 0;
    for (const d of due) if (await this.deleteNow(d.upstreamHash)) deleted++;
    return { attempted: due.length, deleted };
  }

  async pendingHashes(): Promise<Set<string>> {
    const rows: { upstream_hash: string }[] = await this.dataSource.query(
      `SELECT upstream_hash FROM openrouter_key_deletions`,
    );
    return new Set(rows.map((r) => r.upstream_hash));
  }
}
