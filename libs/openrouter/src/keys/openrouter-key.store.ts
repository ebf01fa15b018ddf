import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { SecretBox } from '#libs/common';
import { OpenRouterKey } from './openrouter-key.entity';

/** Reads users' OpenRouter key rows and opens the encrypted key. */
@Injectable()
export class OpenRouterKeyStore {
  constructor(
    @InjectRepository(OpenRouterKey) private readonly repo: Repository<OpenRouterKey>,
    private readonly secretBox: SecretBox,
  ) {}

  find(userId: string): Promise<OpenRouterKey | null> {
    return this.repo.findOneBy({ userId });
  }

  plaintextOf(row: OpenRouterKey | null): string | null {
    return row?.keyEncrypted ? this.secretBox.decrypt(row.keyEncrypted) : null;
  }

  seal(plaintext: string): string {
    return this.secretBox.encrypt(plaintext);
  }
}
