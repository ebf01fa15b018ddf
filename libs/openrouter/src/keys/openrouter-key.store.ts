import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { resealStaleValues, SealedColumn, SecretBox } from '#libs/common';
import { SealedColumns } from '#libs/installation';
import { OpenRouterKey } from './openrouter-key.entity';

const COLUMN = 'openrouter_keys.key_encrypted';

/** Associated data binding a user's sealed key to their row: copied to another row, it does not open. */
const aadFor = (userId: string) => `${COLUMN}:${userId}`;

/** Reads users' OpenRouter key rows and seals and opens the encrypted key. */
@Injectable()
export class OpenRouterKeyStore implements SealedColumn {
  readonly column = COLUMN;

  constructor(
    @InjectRepository(OpenRouterKey) private readonly repo: Repository<OpenRouterKey>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly secretBox: SecretBox,
    columns: SealedColumns,
  ) {
    columns.register(this);
  }

  find(userId: string): Promise<OpenRouterKey | null> {
    return this.repo.findOneBy({ userId });
  }

  /**
   * Only a user who has signed in (active, with a Clerk id) may hold an upstream key: a pending user,
   * added by email, must never cost anyone OpenRouter credit. A read of the users table's status, the
   * one this module makes.
   */
  async mayHoldKey(userId: string): Promise<boolean> {
    const rows: unknown[] = await this.repo.manager.query(
      `SELECT 1 FROM users WHERE id = $1 AND status = 'active' AND clerk_user_id IS NOT NULL`,
      [userId],
    );
    return rows.length > 0;
  }

  plaintextOf(row: OpenRouterKey | null): string | null {
    return row?.keyEncrypted ? this.secretBox.open(row.keyEncrypted, aadFor(row.userId)) : null;
  }

  seal(userId: string, plaintext: string): string {
    return this.secretBox.seal(plaintext, aadFor(userId));
  }

  reseal() {
    return resealStaleValues(
      this.secretBox,
      COLUMN,
      async (after, limit) => {
        const rows: { user_id: string; key_encrypted: string }[] = await this.dataSource.query(
          `SELECT user_id::text, key_encrypted FROM openrouter_keys
            WHERE key_encrypted IS NOT NULL AND NOT starts_with(key_encrypted, $1) AND ($2::text IS NULL OR user_id::text > $2)
            ORDER BY user_id::text LIMIT $3`,
          [this.secretBox.currentPrefix, after, limit],
        );
        return rows.map((r) => ({ cursor: r.user_id, stored: r.key_encrypted, aad: aadFor(r.user_id) }));
      },
      async (value, sealed) => {
        const updated: unknown[] = await this.dataSource.query(
          `UPDATE openrouter_keys SET key_encrypted = $3 WHERE user_id = $1 AND key_encrypted = $2 RETURNING user_id`,
          [value.cursor, value.stored, sealed],
        );
        return rowCount(updated) > 0;
      },
    );
  }
}

/** TypeORM answers UPDATE … RETURNING on postgres as [rows, count]. */
function rowCount(result: unknown[]): number {
  if (Array.isArray(result[0])) return (result[0] as unknown[]).length;
  return result.length;
}
