import { Injectable, Logger, Optional } from '@nestjs/common';
import { Transactions } from '#libs/database';
import { AuditAction, AuditActor, AuditService, SYSTEM_ACTOR } from '#libs/audit';
import { MetricsService } from '#libs/metrics';
import { CacheTopic, InvalidationBus } from '#libs/redis';
import type { CreatedKey } from '../client';
import { UserBudgets, type BudgetStanding } from '../budget/user-budgets';
import { codeOf } from '../error-code';
import { KeyDeletionQueue } from './key-deletion.queue';
import type { OpenRouterKey } from './openrouter-key.entity';
import { OpenRouterKeyRepository } from './openrouter-key.repository';
import { OpenRouterKeyStore } from './openrouter-key.store';
import { isUsableKey } from './usable-key';

/** A replacement of a user's key: asked for (a user's, an admin's) or automatic after a 401. */
export type Replacement = 'refresh' | 'renewal';
/** Why a key is made: the user's first (`provision`) or a replacement. */
export type KeyChange = Replacement | 'provision';

/** A key just created upstream, for the user's row. */
export interface NewKey {
  userId: string;
  kind: KeyChange;
  actor: AuditActor;
  created: CreatedKey;
  /** The budget the key was created under (its limit is `standing.keyLimit`). */
  standing: BudgetStanding;
  /** The key it replaces (null: none) and what that key spent in the period. */
  replacedHash: string | null;
  replacedSpend: number;
}

const AUDIT_ACTIONS: Record<KeyChange, AuditAction> = {
  provision: 'openrouter_key.provisioned',
  refresh: 'openrouter_key.refreshed',
  renewal: 'openrouter_key.auto_renewed',
};
const PAST_TENSE: Record<KeyChange, 'provisioned' | 'refreshed' | 'renewed'> = {
  provision: 'provisioned',
  refresh: 'refreshed',
  renewal: 'renewed',
};

/**
 * Records what happened to a user's key: the row, the deletion queue and the audit trail in one transaction, then
 * every instance told (the user's cached snapshot) and the event counted. Calls nothing upstream.
 */
@Injectable()
export class KeyChangeRecorder {
  private readonly logger = new Logger(KeyChangeRecorder.name);

  constructor(
    private readonly transactions: Transactions,
    private readonly keys: OpenRouterKeyRepository,
    private readonly deletions: KeyDeletionQueue,
    private readonly store: OpenRouterKeyStore,
    private readonly budgets: UserBudgets,
    private readonly audit: AuditService,
    private readonly bus: InvalidationBus,
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  /**
   * Stores the new key (the replaced one queued for deletion) and audits it. A user disabled meanwhile (deleted in
   * Clerk) gets no key back: the new key is queued for deletion instead and the answer is false.
   */
  async stored(key: NewKey): Promise<boolean> {
    const { userId, kind, created, standing, replacedHash } = key;
    const now = new Date();
    const stored = await this.transactions.run(async (uow) => {
      const written = await this.keys.writeNewKey(
        uow,
        userId,
        {
          keyEncrypted: this.store.seal(userId, created.key),
          upstreamHash: created.hash,
          label: created.label,
          name: created.name,
          ...this.budgets.columnsFor(standing),
          status: 'active',
          lastErrorCode: null,
          lastAttemptAt: now,
          keyCreatedAt: now,
        },
        kind === 'renewal' ? now : null,
      );
      if (!written) {
        await this.deletions.enqueue(uow, created.hash, userId, 'user_disabled');
        return false;
      }
      if (replacedHash) await this.deletions.enqueue(uow, replacedHash, userId, kind);
      await this.audit.record(
        {
          action: AUDIT_ACTIONS[kind],
          actor: key.actor,
          target: { type: 'user', id: userId },
          metadata: {
            upstream_hash: created.hash,
            label: created.label,
            limit: standing.keyLimit,
            replaced_hash: replacedHash,
            replaced_key_spend: replacedHash ? key.replacedSpend : null,
          },
        },
        uow,
      );
      return true;
    });
    await this.bus.publish(CacheTopic.user, userId);
    if (stored) {
      const done = kind === 'provision' ? 'provisioned' : kind === 'refresh' ? 'refreshed' : 'auto-renewed';
      this.logger.log(`OpenRouter key ${done} for user ${userId} (hash ${created.hash})`);
      this.metrics?.keyEvent(PAST_TENSE[kind]);
    }
    return stored;
  }

  /**
   * A key that could not be created: the error on the row, and the audit trail. A user who still has a working
   * key keeps it; only a user without one becomes 'provisioning_failed'.
   */
  async failed(userId: string, previous: OpenRouterKey | null, kind: KeyChange, err: unknown): Promise<void> {
    const code = codeOf(err);
    this.metrics?.keyEvent('provisioning_failed');
    this.logger.warn(`OpenRouter key ${kind} failed for user ${userId}: ${code}`);
    const keepsStatus = isUsableKey(previous) || previous?.status === 'disabled';
    await this.transactions.run(async (uow) => {
      await this.keys.recordFailedAttempt(uow, userId, code, new Date(), !keepsStatus);
      await this.audit.record(
        {
          action: 'openrouter_key.provisioning_failed',
          actor: SYSTEM_ACTOR,
          target: { type: 'user', id: userId },
          metadata: { kind, error_code: code },
        },
        uow,
      );
    });
    await this.bus.publish(CacheTopic.user, userId);
  }
}
