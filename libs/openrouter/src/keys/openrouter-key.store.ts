import { Injectable } from '@nestjs/common';
import { resealStaleValues, SealedColumn, SecretBox } from '#libs/common';
import { SealedColumns } from '#libs/installation';
import { OpenRouterKey } from './openrouter-key.entity';
import { OpenRouterKeyRepository } from './openrouter-key.repository';

const COLUMN = 'openrouter_keys.key_encrypted';
/** Associated data binding a user's sealed key to their row: copied to another row, it does not open. */
const aadFor = (userId: string) => `${COLUMN}:${userId}`;

/** Reads users' OpenRouter key rows and seals and opens the encrypted key. */
@Injectable()
export class OpenRouterKeyStore implements SealedColumn {
  readonly column = COLUMN;

  constructor(
    private readonly keys: OpenRouterKeyRepository,
    private readonly secretBox: SecretBox,
    columns: SealedColumns,
  ) {
    columns.register(this);
  }

  find(userId: string): Promise<OpenRouterKey | null> {
    return this.keys.find(userId);
  }

  /**
   * Only a user who has signed in (active, with a Clerk id) may hold an upstream key: a pending user,
   * added by email, must never cost anyone OpenRouter credit.
   */
  mayHoldKey(userId: string): Promise<boolean> {
    return this.keys.userMayHoldKey(userId);
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
        const rows = await this.keys.staleSealed(this.secretBox.currentPrefix, after, limit);
        return rows.map((r) => ({ cursor: r.userId, stored: r.keyEncrypted, aad: aadFor(r.userId) }));
      },
      (value, sealed) => this.keys.replaceSealed(value.cursor, value.stored, sealed),
    );
  }
}
