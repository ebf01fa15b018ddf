import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, Not } from 'typeorm';
import { TableRepository, type UnitOfWork } from '#libs/database';
import { OpenRouterKey } from './openrouter-key.entity';

/** The columns a newly created key writes onto its user's row. */
export type NewKeyColumns = Pick<
  OpenRouterKey,
  'keyEncrypted' | 'upstreamHash' | 'label' | 'name' | 'status' | 'lastErrorCode' | 'lastAttemptAt' | 'keyCreatedAt'
> &
  BudgetColumns;

/** The budget bookkeeping of a row (see UserBudgets.columnsFor). */
export type BudgetColumns = Partial<
  Pick<OpenRouterKey, 'spendingLimit' | 'budgetPeriod' | 'periodStartedAt' | 'replacedSpendUsd'>
>;

/** A sealed key still under an older secret, to seal again. */
export interface StaleSealedKey {
  userId: string;
  keyEncrypted: string;
}

/**
 * `openrouter_keys`: one row per user with their current upstream key (sealed), its provisioning state, the budget
 * bookkeeping and the cross-instance lease.
 */
@Injectable()
export class OpenRouterKeyRepository extends TableRepository {
  constructor(@InjectDataSource() dataSource: DataSource) {
    super(dataSource);
  }

  find(userId: string, uow?: UnitOfWork): Promise<OpenRouterKey | null> {
    return this.manager(uow).findOneBy(OpenRouterKey, { userId });
  }

  /**
   * Cross-table read (users): only a user who has signed in (active, with a Clerk id) may hold an upstream key.
   * The one read of the users table this lib makes; libs/users sits above this one and cannot be asked.
   */
  async userMayHoldKey(userId: string, uow?: UnitOfWork): Promise<boolean> {
    const rows: unknown[] = await this.manager(uow).query(
      `SELECT 1 FROM users WHERE id = $1 AND status = 'active' AND clerk_user_id IS NOT NULL`,
      [userId],
    );
    return rows.length > 0;
  }

  /**
   * Takes the user's lease for `token` when it is free or lapsed (the row is made first when missing): one
   * conditional UPDATE, so that exactly one holder wins. True when taken.
   */
  async takeLease(userId: string, token: string, ttlMs: number): Promise<boolean> {
    const manager = this.manager();
    await manager.query(`INSERT INTO openrouter_keys (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING`, [userId]);
    const rows: unknown[] = await manager.query(
      `UPDATE openrouter_keys SET lease_owner = $2, lease_until = now() + ($3 || ' milliseconds')::interval
       WHERE user_id = $1 AND (lease_until IS NULL OR lease_until < now()) RETURNING user_id`,
      [userId, token, String(ttlMs)],
    );
    return rowCount(rows) > 0;
  }

  /** Frees the lease if `token` still holds it (never another holder's). */
  async releaseLease(userId: string, token: string): Promise<void> {
    await this.manager().query(
      `UPDATE openrouter_keys SET lease_owner = NULL, lease_until = NULL WHERE user_id = $1 AND lease_owner = $2`,
      [userId, token],
    );
  }

  /** The user's upstream hash (null: none, or no row), the row locked for the rest of the transaction. */
  async lockUpstreamHash(uow: UnitOfWork, userId: string): Promise<string | null> {
    const rows: { upstream_hash: string | null }[] = await this.manager(uow).query(
      `SELECT upstream_hash FROM openrouter_keys WHERE user_id = $1 FOR UPDATE`,
      [userId],
    );
    return rows[0]?.upstream_hash ?? null;
  }

  /** The row becomes 'disabled' without a key (inserted if missing, so that nobody provisions one again). */
  async disable(uow: UnitOfWork, userId: string): Promise<void> {
    await this.manager(uow).query(
      `INSERT INTO openrouter_keys (user_id, status) VALUES ($1, 'disabled')
       ON CONFLICT (user_id) DO UPDATE SET status = 'disabled', key_encrypted = NULL, upstream_hash = NULL, label = NULL,
         last_error_code = NULL, updated_at = now()`,
      [userId],
    );
  }

  /**
   * Writes a new key onto the user's row, unless the user is disabled (deleted in Clerk meanwhile): then nothing is
   * written and the answer is false. `renewedAt`: an automatic renewal, counted on the row.
   */
  async writeNewKey(uow: UnitOfWork, userId: string, key: NewKeyColumns, renewedAt: Date | null): Promise<boolean> {
    const result = await this.manager(uow).update(
      OpenRouterKey,
      { userId, status: Not('disabled' as const) },
      {
        ...key,
        ...(renewedAt ? { autoRenewed: true, renewalCount: () => 'renewal_count + 1', lastRenewalAt: renewedAt } : {}),
      },
    );
    return Boolean(result.affected);
  }

  /** A failed attempt: its code and time; `failed` also sets the status to 'provisioning_failed'. */
  async recordFailedAttempt(uow: UnitOfWork, userId: string, code: string, at: Date, failed: boolean): Promise<void> {
    await this.manager(uow).update(
      OpenRouterKey,
      { userId },
      { lastErrorCode: code, lastAttemptAt: at, ...(failed ? { status: 'provisioning_failed' as const } : {}) },
    );
  }

  /** The budget bookkeeping of the key `upstreamHash`, if it is still the user's key. */
  async writeBudgetColumns(userId: string, upstreamHash: string, columns: BudgetColumns): Promise<void> {
    await this.manager().update(OpenRouterKey, { userId, upstreamHash }, columns);
  }

  /** The user's own budget (null: the default), with the bookkeeping of the key it was applied to, if any. */
  async writeBudget(uow: UnitOfWork, userId: string, budgetUsd: number | null, columns: BudgetColumns): Promise<void> {
    await this.manager(uow).update(OpenRouterKey, { userId }, { budgetUsd, ...columns });
  }

  /** Sealed keys not under the current secret (`currentPrefix`), after `after` in user id order. */
  async staleSealed(currentPrefix: string, after: string | null, limit: number): Promise<StaleSealedKey[]> {
    const rows: { user_id: string; key_encrypted: string }[] = await this.manager().query(
      `SELECT user_id::text, key_encrypted FROM openrouter_keys
        WHERE key_encrypted IS NOT NULL AND NOT starts_with(key_encrypted, $1) AND ($2::text IS NULL OR user_id::text > $2)
        ORDER BY user_id::text LIMIT $3`,
      [currentPrefix, after, limit],
    );
    return rows.map((r) => ({ userId: r.user_id, keyEncrypted: r.key_encrypted }));
  }

  /** Replaces a sealed key with its resealed value, unless it changed meanwhile. True when replaced. */
  async replaceSealed(userId: string, stored: string, sealed: string): Promise<boolean> {
    const updated: unknown[] = await this.manager().query(
      `UPDATE openrouter_keys SET key_encrypted = $3 WHERE user_id = $1 AND key_encrypted = $2 RETURNING user_id`,
      [userId, stored, sealed],
    );
    return rowCount(updated) > 0;
  }
}

/** TypeORM answers UPDATE … RETURNING on postgres as [rows, count]. */
function rowCount(result: unknown[]): number {
  if (Array.isArray(result[0])) return (result[0] as unknown[]).length;
  return result.length;
}
