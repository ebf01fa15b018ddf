import { Injectable, Logger } from '@nestjs/common';
import { AuditActor, SYSTEM_ACTOR } from '#libs/audit';
import { AppError, SingleFlight } from '#libs/common';
import { AppConfig } from '#libs/config';
import { UserBudgets } from '../budget/user-budgets';
import { codeOf } from '../error-code';
import { KeyChangeRecorder, type KeyChange, type Replacement } from './key-change.recorder';
import { KeyDeletionQueue } from './key-deletion.queue';
import { KeyLease } from './key-lease';
import type { OpenRouterKey } from './openrouter-key.entity';
import { OpenRouterKeyStore } from './openrouter-key.store';
import { KeyReplacementLimit } from './replacement-limit';
import { UpstreamKeyMaker } from './upstream-key.maker';
import { isUsableKey } from './usable-key';
import '../openrouter.errors'; // the codes thrown here, registered also when a test loads this file alone

export interface ReplaceOptions {
  /**
   * A platform admin's (or the command line's) refresh: replaces even a key an operator disabled upstream. Nobody
   * else may: a disabled key stays, and requests on it answer 403 `openrouter_key_disabled`.
   */
  replaceDisabled?: boolean;
}

/**
 * Creates and replaces users' upstream OpenRouter keys. Exactly one upstream key per user however
 * many requests and instances ask at once: requests of one process share one flight, processes take
 * turns through a lease on the user's row, and the row is read again once the lease is held. The
 * upstream calls are UpstreamKeyMaker's, what is stored and told KeyChangeRecorder's.
 */
@Injectable()
export class OpenRouterKeyProvisioner {
  private readonly logger = new Logger(OpenRouterKeyProvisioner.name);
  private readonly flights = new SingleFlight<OpenRouterKey>();

  constructor(
    private readonly config: AppConfig,
    private readonly store: OpenRouterKeyStore,
    private readonly lease: KeyLease,
    private readonly limit: KeyReplacementLimit,
    private readonly budgets: UserBudgets,
    private readonly maker: UpstreamKeyMaker,
    private readonly recorder: KeyChangeRecorder,
    private readonly deletions: KeyDeletionQueue,
  ) {}

  get configured(): boolean {
    return Boolean(this.config.openRouter.provisioningKey);
  }

  /**
   * `ensureUserOpenRouterKey`: gives a user without a usable key one. Never throws: a failure is
   * recorded on the row (status `provisioning_failed`) and logged, and the caller goes on. An attempt
   * recorded since `attemptsSince` (by default, since this call's attempt began) is not repeated: a
   * login passes its own start, so that logins arriving together make one attempt, even when the first
   * one failed before the next reached this point.
   */
  async ensureUserOpenRouterKey(userId: string, attemptsSince?: Date): Promise<OpenRouterKey | null> {
    const current = await this.store.find(userId);
    if (this.isUsable(current)) return this.budgets.keepCurrent(current);
    if (current?.status === 'disabled' || !this.configured) return current;
    if (!(await this.store.mayHoldKey(userId))) {
      this.logger.warn(`No OpenRouter key for user ${userId}: they have not signed in (or are deactivated)`);
      return current;
    }
    try {
      return await this.flights.run(`ensure:${userId}`, () => this.provisionOnce(userId, attemptsSince));
    } catch (err) {
      this.logger.warn(`Could not provision an OpenRouter key for user ${userId}: ${codeOf(err)}`);
      return this.store.find(userId);
    }
  }

  /**
   * The user's key row for a request that is about to use the key: brought up to date first when a new budget
   * period has begun or the budget changed (see UserBudgets.keepCurrent; a stored comparison otherwise).
   */
  async currentKey(userId: string): Promise<OpenRouterKey | null> {
    return this.budgets.keepCurrent(await this.store.find(userId));
  }

  /**
   * Replaces the user's key: what the old key spent in the period is read from OpenRouter and counted against the
   * user's budget (the new key's limit is what is left), the new key is stored (and the old one queued for
   * deletion) in one transaction, then the old one is deleted upstream. With `failedHash` (a renewal after a
   * 401), nothing is created if the key was already replaced by someone else. A key OpenRouter reports disabled
   * (an operator's decision) is neither replaced nor deleted: 403 `openrouter_key_disabled`, unless
   * `replaceDisabled`. At most KEY_REPLACEMENTS_PER_MINUTE replacements per user (429).
   */
  async replace(
    userId: string,
    kind: Replacement,
    actor: AuditActor,
    failedHash?: string | null,
    options: ReplaceOptions = {},
  ): Promise<OpenRouterKey> {
    if (!this.configured) throw new AppError('openrouter_not_configured', 'OpenRouter provisioning is not configured');
    if (!(await this.store.mayHoldKey(userId)))
      throw new AppError('user_not_active', 'Only a user who has signed in (and is active) gets an OpenRouter key');
    const replaceDisabled = options.replaceDisabled === true;
    // Only a 401 consults what was found before: a key enabled again answers no 401, so the memo cannot outlive it.
    if (kind === 'renewal' && failedHash) this.maker.refuseKnownDisabled(failedHash);
    const flightKey =
      kind === 'renewal' ? `renew:${userId}:${failedHash ?? ''}` : `refresh:${userId}:${replaceDisabled}`;
    return this.flights.run(flightKey, () =>
      this.lease.hold(
        userId,
        async () => {
          const current = await this.store.find(userId);
          if (kind === 'renewal' && current?.upstreamHash && current.upstreamHash !== failedHash) return current;
          await this.limit.take(userId);
          return this.createAndStore(userId, current, kind, actor, replaceDisabled);
        },
        async () => {
          if (kind !== 'renewal') return undefined;
          const current = await this.store.find(userId);
          return current?.upstreamHash && current.upstreamHash !== failedHash ? current : undefined;
        },
      ),
    );
  }

  isUsable(row: OpenRouterKey | null): row is OpenRouterKey & { keyEncrypted: string } {
    return isUsableKey(row);
  }

  private async provisionOnce(userId: string, attemptsSince?: Date): Promise<OpenRouterKey> {
    const startedAt = attemptsSince ?? new Date();
    const attemptedSinceStart = (row: OpenRouterKey | null) =>
      Boolean(row?.lastAttemptAt && row.lastAttemptAt >= startedAt);
    return this.lease.hold(
      userId,
      async () => {
        const current = await this.store.find(userId);
        if (this.isUsable(current) || attemptedSinceStart(current) || current?.status === 'disabled') return current!;
        return this.createAndStore(userId, current, 'provision', SYSTEM_ACTOR, false);
      },
      async () => {
        const current = await this.store.find(userId);
        return this.isUsable(current) || attemptedSinceStart(current) ? current! : undefined;
      },
    );
  }

  /** Runs under the user's lease: the new key upstream, then stored, then the replaced one deleted upstream. */
  private async createAndStore(
    userId: string,
    previous: OpenRouterKey | null,
    kind: KeyChange,
    actor: AuditActor,
    replaceDisabled: boolean,
  ): Promise<OpenRouterKey> {
    const oldHash = previous?.upstreamHash ?? null;
    // The old key's spend in the period counts against the budget before anything is created; unknown, nothing is.
    const spent = oldHash ? await this.maker.spentByOldKey(previous!, replaceDisabled) : 0;
    const standing = this.budgets.afterReplacing(previous, spent);
    let created;
    try {
      created = await this.maker.create(userId, standing);
    } catch (err) {
      await this.recorder.failed(userId, previous, kind, err);
      if (kind === 'provision') return (await this.store.find(userId))!;
      throw new AppError(
        'openrouter_unavailable',
        `OpenRouter could not create a key (${codeOf(err)}); the stored key is unchanged`,
      );
    }
    const stored = await this.recorder.stored({
      userId,
      kind,
      actor,
      created,
      standing,
      replacedHash: oldHash,
      replacedSpend: spent,
    });
    if (!stored) {
      await this.deletions.deleteNow(created.hash);
      throw new AppError('user_not_active', 'This user is disabled; no OpenRouter key was stored');
    }
    if (oldHash) await this.deletions.deleteNow(oldHash);
    return (await this.store.find(userId))!;
  }
}
