import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { SecretBox } from '#libs/common';
import { CacheTopic, InvalidationBus } from '#libs/redis';
import { UserProviderKey } from './user-provider-key.entity';

export type ProviderName = 'glm';

/** Users' own keys for other providers, encrypted at rest. */
@Injectable()
export class ProviderKeysService {
  constructor(
    @InjectRepository(UserProviderKey) private readonly repo: Repository<UserProviderKey>,
    private readonly secretBox: SecretBox,
    private readonly bus: InvalidationBus,
  ) {}

  open(keyEncrypted: string | null): string | null {
    return keyEncrypted ? this.secretBox.decrypt(keyEncrypted) : null;
  }

  async set(userId: string, provider: ProviderName, key: string): Promise<void> {
    await this.repo.upsert({ userId, provider, keyEncrypted: this.secretBox.encrypt(key) }, ['userId', 'provider']);
    await this.bus.publish(CacheTopic.user, userId);
  }

  async remove(userId: string, provider: ProviderName): Promise<void> {
    await this.repo.delete({ userId, provider });
    await this.bus.publish(CacheTopic.user, userId);
  }
}
