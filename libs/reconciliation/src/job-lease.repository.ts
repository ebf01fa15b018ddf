import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { TableRepository, UnitOfWork } from '#libs/database';

/**
 * `job_leases`: one row per named job, taken and kept with conditional UPDATEs (never a row lock), so that no
 * connection is held while the job runs.
 */
@Injectable()
export class JobLeaseRepository extends TableRepository {
  constructor(@InjectDataSource() dataSource: DataSource) {
    super(dataSource);
  }

  /** Makes the lease's row exist (free), so that taking it is an UPDATE. */
  async ensure(name: string, uow?: UnitOfWork): Promise<void> {
    await this.manager(uow).query(`INSERT INTO job_leases (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, [name]);
  }

  /** Takes the lease for `owner` for `ttlMs` when it is free or expired; false when someone holds it. */
  async take(name: string, owner: string, ttlMs: number, uow?: UnitOfWork): Promise<boolean> {
    const taken = await this.manager(uow).query(
      `UPDATE job_leases SET owner = $2, lease_until = now() + ($3 || ' milliseconds')::interval, updated_at = now()
        WHERE name = $1 AND (lease_until IS NULL OR lease_until < now()) RETURNING name`,
      [name, owner, String(ttlMs)],
    );
    return rowCount(taken) > 0;
  }

  /** Pushes the end of `owner`'s lease to `ttlMs` from now; false when `owner` no longer holds it. */
  async extend(name: string, owner: string, ttlMs: number, uow?: UnitOfWork): Promise<boolean> {
    const rows = await this.manager(uow).query(
      `UPDATE job_leases SET lease_until = now() + ($3 || ' milliseconds')::interval, updated_at = now()
            WHERE name = $1 AND owner = $2 RETURNING name`,
      [name, owner, String(ttlMs)],
    );
    return rowCount(rows) > 0;
  }

  /** Frees the lease if `owner` still holds it. */
  async release(name: string, owner: string, uow?: UnitOfWork): Promise<void> {
    await this.manager(uow).query(
      `UPDATE job_leases SET owner = NULL, lease_until = NULL, updated_at = now() WHERE name = $1 AND owner = $2`,
      [name, owner],
    );
  }

  /** Who holds the lease and until when; null when free or expired. */
  async holder(name: string, uow?: UnitOfWork): Promise<{ owner: string; until: Date } | null> {
    const rows: { owner: string | null; lease_until: Date | null }[] = await this.manager(uow).query(
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
