import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { AppError } from '#libs/common';
import { AppConfig } from '#libs/config';

const PROCESS_ID = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

/**
 * A short lease on a user's key row, taken with one conditional UPDATE, so that exactly one
 * instance at a time creates or replaces the user's upstream key. No transaction or connection is
 * held during the upstream call (the embedded database has a single connection); a crashed holder's
 * lease simply expires.
 */
@Injectable()
export class KeyLease {
  private readonly logger = new Logger(KeyLease.name);
  private readonly ttlMs: number;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    config: AppConfig,
  ) {
    // Long enough for the upstream calls a holder makes (a read, a create, an update), each within the timeout.
    this.ttlMs = config.openRouter.timeoutMs * 3 + 5000;
  }

  /**
   * Runs `work` holding the user's lease. While another holder has it, polls `whenBusy` (which may return that
   * holder's result) until the lease frees up or the wait is over (503 `openrouter_key_busy`).
   */
  async hold<T>(userId: string, work: () => Promise<T>, whenBusy: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + this.ttlMs + 5000;
    for (;;) {
      const token = await this.tryAcquire(userId, this.ttlMs);
      if (token) {
        try {
          return await work();
        } finally {
          await this.release(userId, token).catch((err: unknown) =>
            this.logger.warn(`Releasing key lease failed: ${(err as { code?: string })?.code ?? 'error'}`),
          );
        }
      }
      const theirs = await whenBusy();
      if (theirs !== undefined) return theirs;
      if (Date.now() > deadline)
        throw new AppError('openrouter_key_busy', 'The OpenRouter key is being changed; retry shortly');
      await sleep(40 + Math.random() * 40);
    }
  }

  /** Returns a lease token when taken, null when another holder has it. */
  async tryAcquire(userId: string, ttlMs: number): Promise<string | null> {
    const token = `${PROCESS_ID}:${randomUUID().slice(0, 8)}`;
    await this.dataSource.query(`INSERT INTO openrouter_keys (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING`, [
      userId,
    ]);
    const rows: unknown[] = await this.dataSource.query(
      `UPDATE openrouter_keys SET lease_owner = $2, lease_until = now() + ($3 || ' milliseconds')::interval
       WHERE user_id = $1 AND (lease_until IS NULL OR lease_until < now()) RETURNING user_id`,
      [userId, token, String(ttlMs)],
    );
    return rowCount(rows) > 0 ? token : null;
  }

  async release(userId: string, token: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE openrouter_keys SET lease_owner = NULL, lease_until = NULL WHERE user_id = $1 AND lease_owner = $2`,
      [userId, token],
    );
  }
}

/** TypeORM answers UPDATE … RETURNING on postgres as [rows, count]. */
function rowCount(result: unknown[]): number {
  if (Array.isArray(result[0])) return (result[0] as unknown[]).length;
  return result.length;
}
