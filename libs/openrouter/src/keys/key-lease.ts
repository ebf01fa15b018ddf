import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { DataSource } from 'typeorm';

const PROCESS_ID = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

/**
 * A short lease on a user's key row, taken with one conditional UPDATE, so that exactly one
 * instance at a time creates or replaces the user's upstream key. No transaction or connection is
 * held during the upstream call (the embedded database has a single connection); a crashed holder's
 * lease simply expires.
 */
@Injectable()
export class KeyLease {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

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
