import { Injectable } from '@nestjs/common';
import { resealStaleValues, SealedColumn, SecretBox } from '#libs/common';
import { SealedColumns } from '#libs/installation';
import { CacheTopic, InvalidationBus } from '#libs/redis';
import { UserProviderKeyRepository } from './user-provider-key.repository';

export type ProviderName = 'glm';

const COLUMN = 'user_provider_keys.key_encrypted';
/** Associated data binding a sealed key to its row (user and provider). */
const aadFor = (userId: string, provider: string) => `${COLUMN}:${userId}:${provider}`;

/** Users' own keys for other providers, encrypted at rest. */
@Injectable()
export class ProviderKeysService implements SealedColumn {
  readonly column = COLUMN;

  constructor(
    private readonly keys: UserProviderKeyRepository,
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
    await this.keys.upsert(userId, provider, keyEncrypted);
    await this.bus.publish(CacheTopic.user, userId);
  }

  async remove(userId: string, provider: ProviderName): Promise<void> {
    await this.keys.delete(userId, provider);
    await this.bus.publish(CacheTopic.user, userId);
  }

  reseal() {
    return resealStaleValues(
      this.secretBox,
      COLUMN,
      async (after, limit) =>
        (await this.keys.staleSealed(this.secretBox.currentPrefix, after, limit)).map((r) => ({
          cursor: `${r.userId}:${r.provider}`,
          stored: r.keyEncrypted,
          aad: aadFor(r.userId, r.provider),
        })),
      (value, sealed) => {
        const [userId, provider] = [value.cursor.slice(0, 36), value.cursor.slice(37)];
        return this.keys.replaceSealed(userId, provider, value.stored, sealed);
      },
    );
  }
}
