import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { TableRepository, UnitOfWork } from '#libs/database';

export interface InstallationRow {
  installationId: string;
  keyFingerprint: string | null;
}

/** The `installation` table (one row, made by its migration); this lib is its only reader and writer. */
@Injectable()
export class InstallationRepository extends TableRepository {
  constructor(@InjectDataSource() dataSource: DataSource) {
    super(dataSource);
  }

  async read(uow?: UnitOfWork): Promise<InstallationRow> {
    const rows: { installation_id: string; key_fingerprint: string | null }[] = await this.manager(uow).query(
      `SELECT installation_id, key_fingerprint FROM installation WHERE singleton`,
    );
    if (!rows[0]) throw new Error('The installation row is missing: run the migrations');
    return { installationId: rows[0].installation_id, keyFingerprint: rows[0].key_fingerprint };
  }

  /** Records the first key's fingerprint; a concurrent first start-up may have recorded its own. */
  async recordFirstFingerprint(fingerprint: string, uow?: UnitOfWork): Promise<void> {
    await this.manager(uow).query(
      `UPDATE installation SET key_fingerprint = $1, updated_at = now() WHERE singleton AND key_fingerprint IS NULL`,
      [fingerprint],
    );
  }

  /** Moves the fingerprint from the previous key (or none) to the current one; never from another key. */
  async moveFingerprint(from: string | null, to: string, uow?: UnitOfWork): Promise<void> {
    await this.manager(uow).query(
      `UPDATE installation SET key_fingerprint = $2, updated_at = now()
        WHERE singleton AND (key_fingerprint IS NULL OR key_fingerprint = $1)`,
      [from, to],
    );
  }
}
