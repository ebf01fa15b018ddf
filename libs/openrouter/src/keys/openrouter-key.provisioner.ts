import { Injectable, Logger, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, Not } from 'typeorm';
import { unitOfWorkOf } from '#libs/database';
import { AuditActor, AuditService, SYSTEM_ACTOR } from '#libs/audit';
import { AppError, LruCache, UUID_PATTERN } from '#libs/common';
import { AppConfig } from '#libs/config';
import { DeploymentIdentity } from '#libs/installation';
import { CacheTopic, InvalidationBus } from '#libs/redis';
import { OpenRouterClient, OpenRouterError, spendOf } from '../client';
import { limitResetOf, usageInPeriod } from '../budget/budget-period';
import { UserBudgets } from '../budget/user-budgets';
import { KeyDeletionQueue } from './key-deletion.queue';
import { KeyLease } from './key-lease';
import { OpenRouterKey } from './openrouter-key.entity';
import { OpenRouterKeyStore } from './openrouter-key.store';
import { KeyReplacementLimit } from './replacement-limit';
import { KeySpendCache } from '../spend/key-spend.cache';
import { SingleFlight } from '#libs/common';
import { MetricsService } from '#libs/metrics';
import '../openrouter.errors'; // the codes thrown here, registered also when a test loads this file alone

type Replacement = 'refresh' | 'renewal';

export interface ReplaceOptions {
  /**
   * A platform admin's (or the command line's) refresh: replaces even a key an operator disabled upstream. Nobody
   * else may: a disabled key stays, and requests on it answer 403 `openrouter_key_disabled`.
   */
  replaceDisabled?: boolean;
}

/** A key found disabled upstream is not asked about again for this long (each 401 on it would ask). */
const DISABLED_MEMO_MS = 15_000;

/**
 * Creates and replaces users' upstream OpenRouter keys. Exactly one upstream key per user however
 * many requests and instances ask at once: requests of one process share one flight, processes take
 * turns through a lease on the user's row, and the row is read again once the lease is held.
 */
@Injectable()
export class OpenRouterKeyProvisioner {
  private readonly logger = new Logger(OpenRouterKeyProvisioner.name);
  private readonly flights = new SingleFlight<OpenRouterKey>();
  private readonly disabledUpstream = new LruCache<string, true>(10_000, DISABLED_MEMO_MS);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly client: OpenRouterClient,
    private readonly store: OpenRouterKeyStore,
    private readonly lease: KeyLease,
    private readonly deletions: KeyDeletionQueue,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
    private readonly bus: InvalidationBus,
    private readonly identity: DeploymentIdentity,
    private readonly budgets: UserBudgets,
    private readonly limit: KeyReplacementLimit,
    private readonly spend: KeySpendCache,
    @Optional() private readonly metrics?: MetricsService,
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
    if (kind === 'renewal' && failedHash && this.disabledUpstream.get(failedHash)) throw keyDisabled();
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
    return Boolean(row && row.status === 'active' && row.keyEncrypted);
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

  private async createAndStore(
    userId: string,
    previous: OpenRouterKey | null,
    kind: Replacement | 'provision',
    actor: AuditActor,
    replaceDisabled: boolean,
  ): Promise<OpenRouterKey> {
    const oldHash = previous?.upstreamHash ?? null;
    // The old key's spend in the period counts against the budget before anything is created; unknown, nothing is.
    const spent = oldHash ? await this.spentByOldKey(previous!, replaceDisabled) : 0;
    const standing = this.budgets.afterReplacing(previous, spent);
    const limit = standing.keyLimit;
    let created;
    try {
      created = await this.client.createKey({
        name: keyName(this.identity.installationId, userId),
        limit,
        limitReset: limitResetOf(standing.period),
      });
    } catch (err) {
      await this.recordFailure(userId, previous, kind, err);
      if (kind === 'provision') return (await this.store.find(userId))!;
      throw new AppError(
        'openrouter_unavailable',
        `OpenRouter could not create a key (${codeOf(err)}); the stored key is unchanged`,
      );
    }

    const now = new Date();
    const stored = await this.dataSource.transaction(async (m) => {
      // A user disabled meanwhile (deleted in Clerk) must not get a key back.
      const result = await m.update(
        OpenRouterKey,
        { userId, status: Not('disabled' as const) },
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
          ...(kind === 'renewal'
            ? { autoRenewed: true, renewalCount: () => 'renewal_count + 1', lastRenewalAt: now }
            : {}),
        },
      );
      if (!result.affected) {
        await this.deletions.enqueue(m, created.hash, userId, 'user_disabled');
        return false;
      }
      if (oldHash) await this.deletions.enqueue(m, oldHash, userId, kind);
      await this.audit.record(
        {
          action:
            kind === 'provision'
              ? 'openrouter_key.provisioned'
              : kind === 'refresh'
                ? 'openrouter_key.refreshed'
                : 'openrouter_key.auto_renewed',
          actor,
          target: { type: 'user', id: userId },
          metadata: {
            upstream_hash: created.hash,
            label: created.label,
            limit,
            replaced_hash: oldHash,
            replaced_key_spend: oldHash ? spent : null,
          },
        },
        unitOfWorkOf(m),
      );
      return true;
    });
    await this.bus.publish(CacheTopic.user, userId);
    if (!stored) {
      await this.deletions.deleteNow(created.hash);
      throw new AppError('user_not_active', 'This user is disabled; no OpenRouter key was stored');
    }
    this.logger.log(
      `OpenRouter key ${kind === 'provision' ? 'provisioned' : kind === 'refresh' ? 'refreshed' : 'auto-renewed'} for user ${userId} (hash ${created.hash})`,
    );
    this.metrics?.keyEvent(kind === 'provision' ? 'provisioned' : kind === 'refresh' ? 'refreshed' : 'renewed');
    if (oldHash) await this.deletions.deleteNow(oldHash);
    return (await this.store.find(userId))!;
  }

  private async recordFailure(
    userId: string,
    previous: OpenRouterKey | null,
    kind: Replacement | 'provision',
    err: unknown,
  ): Promise<void> {
    const code = codeOf(err);
    this.metrics?.keyEvent('provisioning_failed');
    this.logger.warn(`OpenRouter key ${kind} failed for user ${userId}: ${code}`);
    await this.dataSource.transaction(async (m) => {
      await m.update(
        OpenRouterKey,
        { userId },
        {
          lastErrorCode: code,
          lastAttemptAt: new Date(),
          // A user who still has a working key keeps it; only a user without one is "failed".
          ...(this.isUsable(previous) || previous?.status === 'disabled'
            ? {}
            : { status: 'provisioning_failed' as const }),
        },
      );
      await this.audit.record(
        {
          action: 'openrouter_key.provisioning_failed',
          actor: SYSTEM_ACTOR,
          target: { type: 'user', id: userId },
          metadata: { kind, error_code: code },
        },
        unitOfWorkOf(m),
      );
    });
    await this.bus.publish(CacheTopic.user, userId);
  }

  /**
   * What the user's current key spent in the budget period, read from OpenRouter (`GET /keys/{hash}`). An answer
   * without the period's usage, or no answer, fails the replacement (502) and the key stays. A key OpenRouter no
   * longer knows (404: deleted behind our back, the classic reason for a 401) has no spend to read any more: its
   * last spend seen here counts, else nothing, since only an operator (never the user) can delete a key upstream.
   */
  private async spentByOldKey(row: OpenRouterKey, replaceDisabled: boolean): Promise<number> {
    const hash = row.upstreamHash!;
    let key;
    try {
      key = await this.client.getKey(hash);
    } catch (err) {
      if (err instanceof OpenRouterError && err.upstreamStatus === 404) {
        const known = this.spend.known(hash);
        const spent = (known && usageInPeriod(known, this.budgets.period)) ?? 0;
        this.logger.warn(`OpenRouter key ${hash} of user ${row.userId} is gone upstream; counted at ${spent} USD`);
        return spent;
      }
      throw unreadableSpend(codeOf(err));
    }
    if (key.disabled && !replaceDisabled) {
      this.disabledUpstream.set(hash, true);
      this.logger.warn(`OpenRouter key ${hash} of user ${row.userId} is disabled upstream; it is left as it is`);
      throw keyDisabled();
    }
    const spent = usageInPeriod(spendOf(key), this.budgets.period);
    if (spent === null) throw unreadableSpend('no usage in the answer');
    return spent;
  }
}

function keyDisabled(): AppError {
  return new AppError(
    'openrouter_key_disabled',
    "The user's OpenRouter key is disabled at OpenRouter; an operator must enable it or a platform admin refresh it",
  );
}

function unreadableSpend(reason: string): AppError {
  return new AppError(
    'openrouter_unavailable',
    `What the current OpenRouter key spent could not be read (${reason}); the stored key is unchanged`,
  );
}

/**
 * Names keys so that reconciliation can tell this installation's keys, and their user, apart:
 * `umb:<user uuid>:<installation id>:<ms>` (the user first, as in the names made before installations
 * existed, `umb:<user uuid>:<ms>`).
 */
export function keyName(installationId: string, userId: string): string {
  return `umb:${userId}:${installationId}:${Date.now()}`;
}

export interface ParsedKeyName {
  userId: string;
  /** Null for a name made before installation ids existed: it cannot be attributed to a deployment. */
  installationId: string | null;
  createdMs: number;
}

const KEY_NAME = new RegExp(`^umb:(${UUID_PATTERN}):(?:(${UUID_PATTERN}):)?(\\d+)$`);

/** The parts of a name this service made (either form), or null for any other name. */
export function parseKeyName(name: string): ParsedKeyName | null {
  const m = KEY_NAME.exec(name);
  return m ? { userId: m[1], installationId: m[2] ?? null, createdMs: Number(m[3]) } : null;
}

function codeOf(err: unknown): string {
  if (err instanceof OpenRouterError) return err.code;
  if (err instanceof AppError) return err.code;
  return 'unexpected_error';
}
