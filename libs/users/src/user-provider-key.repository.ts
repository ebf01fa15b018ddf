import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { TableRepository, type UnitOfWork } from '#libs/database';
import { UserProviderKey } from './user-provider-key.entity';

/** A sealed value, by the position a re-seal pass walks them in. */
export interface SealedProviderKey {
  userId: string;
  provider: string;
  keyEncrypted: string;
}

/** The `user_provider_keys` table: users' own keys for other providers, stored sealed. */
@Injectable()
export class UserProviderKeyRepository extends TableRepository {
  constructor(@InjectDataSource() dataSource: DataSource) {
    super(dataSource);
  }

  async upsert(userId: string, provider: string, keyEncrypted: string, uow?: UnitOfWork): Promise<void> {
    await this.manager(uow)
      .getRepository(UserProviderKey)
      .upsert({ userId, provider, keyEncrypted }, ['userId', 'provider']);
  }

  async delete(userId: string, provider: string, uow?: UnitOfWork): Promise<void> {
    await this.manager(uow).getRepository(UserProviderKey).delete({ userId, provider });
  }

  /** The user's sealed GLM key, or null. */
  async sealedGlmKeyOf(userId: string, uow?: UnitOfWork): Promise<string | null> {
    const rows: { key_encrypted: string }[] = await this.manager(uow).query(
      `SELECT key_encrypted FROM user_provider_keys WHERE user_id = $1 AND provider = 'glm'`,
      [userId],
    );
    return rows[0]?.key_encrypted ?? null;
  }

  /**
   * Up to `limit` values not sealed with the current key (not starting with `currentPrefix`), in the order of
   * `user_id:provider`, after the cursor `after` (null: from the start).
   */
  async staleSealed(
    currentPrefix: string,
    after: string | null,
    limit: number,
    uow?: UnitOfWork,
  ): Promise<SealedProviderKey[]> {
    const rows: { user_id: string; provider: string; key_encrypted: string }[] = await this.manager(uow).query(
      `SELECT user_id::text, provider, key_encrypted FROM user_provider_keys
        WHERE NOT starts_with(key_encrypted, $1) AND ($2::text IS NULL OR user_id::text || ':' || provider > $2)
        ORDER BY user_id::text || ':' || provider LIMIT $3`,
      [currentPrefix, after, limit],
    );
    return rows.map((r) => ({ userId: r.user_id, provider: r.provider, keyEncrypted: r.key_encrypted }));
  }

  /** Replaces a sealed value if it is still the one read (a concurrent change wins); true when replaced. */
  async replaceSealed(
    userId: string,
    provider: string,
    stored: string,
    sealed: string,
    uow?: UnitOfWork,
  ): Promise<boolean> {
    const updated: unknown[] = await this.manager(uow).query(
      `UPDATE user_provider_keys SET key_encrypted = $4
        WHERE user_id = $1 AND provider = $2 AND key_encrypted = $3 RETURNING user_id`,
      [userId, provider, stored, sealed],
    );
    return (Array.isArray(updated[0]) ? (updated[0] as unknown[]) : updated).length > 0;
  }
}
