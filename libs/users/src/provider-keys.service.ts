import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { resealStaleValues, SealedColumn, SecretBox } from '#libs/common';
import { SealedColumns } from '#libs/installation';
import { CacheTopic, InvalidationBus } from '#libs/redis';
import { UserProviderKey } from './user-provider-key.entity';

export type ProviderName = 'glm';

const COLUMN = 'user_provider_keys.key_encrypted';
/** Associated data binding a sealed key to its row (user and provider). */
const aadFor = (userId: string, provider: string) => `${COLUMN}:${userId}:${provider}`;

/** Users' own keys for other providers, encrypted at rest. */
@Injectable()
export class ProviderKeysService implements SealedColumn {
  readonly column = COLUMN;

  constructor(
    @InjectRepository(UserProviderKey) private readonly repo: Repository<UserProviderKey>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly secretBox: SecretBox,
    private readonly bus: InvalidationBus,
    columns: SealedColumns,
  ) {
    columns.register(this);
  }

  open(userId: string, provider: ProviderName, keyEncrypted: string | null): string | null {
    return keyEncrypted ? this.secretBox.open(keyEncrypted, aadFor(userId, provider)) : null;
  }

  async set(userId: string, provider: ProviderName, key: string): Promise<void> {
    const keyEncrypted = this.secretBox.seal(key, aadFor(userId, provider));
    await this.repo.upsert({ userId, provider, keyEncrypted }, ['userId', 'provider']);
    await this.bus.publish(CacheTopic.user, userId);
  }

  async remove(userId: string, provider: ProviderName): Promise<void> {
    await this.repo.delete({ userId, provider });
    await this.bus.publish(CacheTopic.user, userId);
  }

  reseal() {
    return resealStaleValues(
      this.secretBox,
      COLUMN,
      async (after, limit) => {
        const rows: { user_id: string; provider: string; key_encrypted: string }[] = await this.dataSource.query(
          `SELECT user_id::text, provider, key_encrypted FROM user_provider_keys
            WHERE NOT starts_with(key_encrypted, $1) AND ($2::text IS NULL OR user_id::text || ':' || provider > $2)
            ORDER BY user_id::text || ':' || provider LIMIT $3`,
          [this.secretBox.currentPrefix, after, limit],
        );
        return rows.map((r) => ({
          cursor: `${r.user_id}:${r.provider}`,
          stored: r.key_encrypted,
          aad: aadFor(r.user_id, r.provider),
        }));
      },
      async (value, sealed) => {
        const [userId, provider] = [value.cursor.slice(0, 36), value.cursor.slice(37)];
        const updated: unknown[] = await this.dataSource.query(
          `UPDATE user_provider_keys SET key_encrypted = $4
            WHERE user_id = $1 AND provider = $2 AND key_encrypted = $3 RETURNING user_id`,
          [userId, provider, value.stored, sealed],
        );
        return (Array.isArray(updated[0]) ? (updated[0] as unknown[]) : updated).length > 0;
      },
    );
  }
}
