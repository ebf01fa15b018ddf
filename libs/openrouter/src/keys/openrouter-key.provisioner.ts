import { Injectable, Logger, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource, Not } from 'typeorm';
import { AuditActor, AuditService, SYSTEM_ACTOR } from '#libs/audit';
import { AppError } from '#libs/common';
import { AppConfig } from '#libs/config';
import { DeploymentIdentity } from '#libs/installation';
import { CacheTopic, InvalidationBus } from '#libs/redis';
import { OpenRouterClient, OpenRouterError } from '../client';
import { KeyDeletionQueue } from './key-deletion.queue';
import { KeyLease } from './key-lease';
import { OpenRouterKey } from './openrouter-key.entity';
import { OpenRouterKeyStore } from './openrouter-key.store';
import { SingleFlight } from '#libs/common';
import { MetricsService } from '#libs/metrics';

type Replacement = 'refresh' | 'renewal';

/**
 * Creates and replaces users' upstream OpenRouter keys. Exactly one upstream key per user however
 * many requests and instances ask at once: requests of one process share one flight, processes take
 * turns through a lease on the user's row, and the row is read again once the lease is held.
 */
@Injectable()
export class OpenRouterKeyProvisioner {
  private readonly logger = new Logger(OpenRouterKeyProvisioner.name);
  private readonly flights = new SingleFlight<OpenRouterKey>();

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
    if (this.isUsable(current) || current?.status === 'disabled' || !this.configured) return current;
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
   * Replaces the user's key: the new key is stored (and the old one queued for deletion) in one
   * transaction, then the old one is deleted upstream. With `failedHash` (a renewal after a 401),
   * nothing is created if the key was already replaced by someone else.
   */
  async replace(
    userId: string,
    kind: Replacement,
    actor: AuditActor,
    failedHash?: string | null,
  ): Promise<OpenRouterKey> {
    if (!this.configured) throw new AppError('openrouter_not_configured', 'OpenRouter provisioning is not configured');
    if (!(await this.store.mayHoldKey(userId)))
      throw new AppError('user_not_active', 'Only a user who has signed in (and is active) gets an OpenRouter key');
    const flightKey = kind === 'renewal' ? `renew:${userId}:${failedHash ?? ''}` : `refresh:${userId}`;
    return this.flights.run(flightKey, () =>
      this.underLease(
        userId,
        async () => {
          const current = await this.store.find(userId);
          if (kind === 'renewal' && current?.upstreamHash && current.upstreamHash !== failedHash) return current;
          return this.createAndStore(userId, current, kind, actor);
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
    return this.underLease(
      userId,
      async () => {
        const current = await this.store.find(userId);
        if (this.isUsable(current) || attemptedSinceStart(current) || current?.status === 'disabled') return current!;
        return this.createAndStore(userId, current, 'provision', SYSTEM_ACTOR);
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
  ): Promise<OpenRouterKey> {
    const limit = this.config.openRouter.keyLimit;
    let created;
    try {
      created = await this.client.createKey({ name: keyName(this.identity.installationId, userId), limit });
    } catch (err) {
      await this.recordFailure(userId, previous, kind, err);
      if (kind === 'provision') return (await this.store.find(userId))!;
      throw new AppError(
        'openrouter_unavailable',
        `OpenRouter could not create a key (${codeOf(err)}); the stored key is unchanged`,
      );
    }

    const now = new Date();
    const oldHash = previous?.upstreamHash ?? null;
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
          spendingLimit: created.limit ?? limit,
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
            limit: created.limit ?? limit,
            replaced_hash: oldHash,
          },
        },
        m,
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
        m,
      );
    });
    await this.bus.publish(CacheTopic.user, userId);
  }

  /**
   * Runs `work` holding the user's lease. While another holder has it, polls `whenBusy` (which may
   * return that holder's result) until the lease frees up or the wait is over.
   */
  private async underLease<T>(
    userId: string,
    work: () => Promise<T>,
    whenBusy: () => Promise<T | undefined>,
  ): Promise<T> {
    const ttlMs = this.config.openRouter.timeoutMs * 2 + 5000;
    const deadline = Date.now() + ttlMs + 5000;
    for (;;) {
      const token = await this.lease.tryAcquire(userId, ttlMs);
      if (token) {
        try {
          return await work();
        } finally {
          await this.lease
            .release(userId, token)
            .catch((err) => this.logger.warn(`Releasing key lease failed: ${codeOf(err)}`));
        }
      }
      const theirs = await whenBusy();
      if (theirs !== undefined) return theirs;
      if (Date.now() > deadline)
        throw new AppError('openrouter_key_busy', 'The OpenRouter key is being changed; retry shortly');
      await sleep(40 + Math.random() * 40);
    }
  }
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

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const KEY_NAME = new RegExp(`^umb:(${UUID}):(?:(${UUID}):)?(\\d+)$`);

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
