import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { TableRepository, type UnitOfWork } from '#libs/database';
import { OpenRouterKeyDeletion } from './openrouter-key-deletion.entity';

/** `openrouter_key_deletions`: upstream keys still to delete at OpenRouter, with their retry schedule. */
@Injectable()
export class OpenRouterKeyDeletionRepository extends TableRepository {
  constructor(@InjectDataSource() dataSource: DataSource) {
    super(dataSource);
  }

  /** Queues a key once (a key already queued keeps its schedule). */
  async enqueue(uow: UnitOfWork, upstreamHash: string, userId: string | null, reason: string): Promise<void> {
    await this.manager(uow).query(
      `INSERT INTO openrouter_key_deletions (upstream_hash, user_id, reason) VALUES ($1, $2, $3) ON CONFLICT (upstream_hash) DO NOTHING`,
      [upstreamHash, userId, reason],
    );
  }

  /** A failed deletion: counted, and its next attempt pushed back exponentially (at most an hour). */
  async recordFailedAttempt(upstreamHash: string, code: string): Promise<void> {
    await this.manager().query(
      `UPDATE openrouter_key_deletions SET attempts = attempts + 1, last_error_code = $2,
         next_attempt_at = now() + (least(3600, 30 * power(2, least(attempts, 7))) || ' seconds')::interval
       WHERE upstream_hash = $1`,
      [upstreamHash, code],
    );
  }

  /** Takes a deleted key off the queue; answers its user (null: none, or it was not queued). */
  async remove(uow: UnitOfWork, upstreamHash: string): Promise<string | null> {
    const rows = await this.manager(uow).query(
      `DELETE FROM openrouter_key_deletions WHERE upstream_hash = $1 RETURNING user_id`,
      [upstreamHash],
    );
    return (Array.isArray(rows[0]) ? rows[0][0] : rows[0])?.user_id ?? null;
  }

  /** The deletions whose next attempt is due, the longest due first. */
  due(limit: number): Promise<OpenRouterKeyDeletion[]> {
    return this.manager()
      .getRepository(OpenRouterKeyDeletion)
      .createQueryBuilder('d')
      .where('d.next_attempt_at <= now()')
      .orderBy('d.next_attempt_at', 'ASC')
      .limit(limit)
      .getMany();
  }

  async pendingHashes(): Promise<string[]> {
    const rows: { upstream_hash: string }[] = await this.manager().query(
      `SELECT upstream_hash FROM openrouter_key_deletions`,
    );
    return rows.map((r) => r.upstream_hash);
  }
}
