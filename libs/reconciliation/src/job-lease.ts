import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { DataSource } from 'typeorm';

const PROCESS_ID = `${hostname()}:${process.pid}`;

/** A held lease; `extend` pushes its end further, `release` gives it up. */
export interface HeldLease {
  readonly name: string;
  readonly token: string;
  /** False when the lease expired and someone else took it: the holder must stop. */
  extend(): Promise<boolean>;
  release(): Promise<void>;
}

/**
 * Named leases in `job_leases`, taken with one conditional UPDATE, so that one process at a time
 * (server instance or command line) runs a job. No connection or transaction is held while the job
 * runs, which matters on the embedded database's single connection; a crashed holder's lease just
 * expires.
 */
@Injectable()
export class JobLease {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async tryAcquire(name: string, ttlMs: number): Promise<HeldLease | null> {
    const token = `${PROCESS_ID}:${randomUUID().slice(0, 8)}`;
    await this.dataSource.query(`INSERT INTO job_leases (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, [name]);
    const taken = await this.dataSource.query(
      `UPDATE job_leases SET owner = $2, lease_until = now() + ($3 || ' milliseconds')::interval, updated_at = now()
        WHERE name = $1 AND (lease_until IS NULL OR lease_until < now()) RETURNING name`,
      [name, token, String(ttlMs)],
    );
    if (rowCount(taken) === 0) return null;
    return {
      name,
      token,
      extend: async () => {
        const rows = await this.dataSource.query(
          `UPDATE job_leases SET lease_until = now() + ($3 || ' milliseconds')::interval, updated_at = now()
            WHERE name = $1 AND owner = $2 RETURNING name`,
          [name, token, String(ttlMs)],
        );
        return rowCount(rows) > 0;
      },
      release: async () => {
        await this.dataSource.query(
          `UPDATE job_leases SET owner = NULL, lease_until = NULL, updated_at = now() WHERE name = $1 AND owner = $2`,
          [name, token],
        );
      },
    };
  }

  /** Who holds the lease and until when, for messages; null when free. */
  async holder(name: string): Promise<{ owner: string; until: Date } | null> {
    const rows: { owner: string | null; lease_until: Date | null }[] = await this.dataSource.query(
      `SELECT owner, lease_until FROM job_leases WHERE name = $1 AND lease_until >= now()`,
      [name],
    );
    const row = rows[0];
    return row?.owner && row.lease_until ? { owner: row.owner, until: new Date(row.lease_until) } : null;
  }
}

/** TypeORM answers UPDATE … RETURNING on postgres as [rows, count]. */
function rowCount(result: unknown[]): number {
  if (Array.isArray(result[0])) return (result[0] as unknown[]).length;
  return result.length;
}
