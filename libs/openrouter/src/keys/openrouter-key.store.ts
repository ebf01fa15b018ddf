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
    return row?.keyEncrypted ? this.secretBox.decrypt(row.keyEncrypted) : null;
  }

  seal(plaintext: string): string {
    return this.secretBox.encrypt(plaintext);
  }
}
