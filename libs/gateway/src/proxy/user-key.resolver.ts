import { Injectable } from '@nestjs/common';
import { AuditActor } from '#libs/audit';
import { AppError, LruCache } from '#libs/common';
import { OpenRouterKey, OpenRouterKeyProvisioner, OpenRouterKeyStore } from '#libs/openrouter';
import { CacheTopic, InvalidationBus } from '#libs/redis';
import { SingleFlight } from '#libs/common';
import { GatewayErrors } from '../errors/openai-error';

/** A user's usable OpenRouter key: the plaintext, and the upstream hash that names it for renewal. */
export interface UserKey {
  readonly userId: string;
  readonly key: string;
  readonly hash: string | null;
}

/**
 * Decrypted keys are kept this long per user. Every instance drops a user's entry when the provisioner
 * announces a change of their key (`user` invalidation); a change missed anyway (Redis down) is noticed
 * by its 401, which renews against the stored row without creating another key.
 */
const KEY_TTL_MS = 60_000;
const MAX_CACHED_USERS = 50_000;

/**
 * The OpenRouter key to call with for a user: from a short in-process cache (no database round trip on
 * the hot path), else the stored row, provisioning one first when the user has none.
 */
@Injectable()
export class UserKeyResolver {
  private readonly cache = new LruCache<string, UserKey>(MAX_CACHED_USERS, KEY_TTL_MS);
  private readonly loads = new SingleFlight<UserKey>();

  constructor(
    private readonly store: OpenRouterKeyStore,
    private readonly provisioner: OpenRouterKeyProvisioner,
    bus: InvalidationBus,
  ) {
    bus.on(CacheTopic.user, (userId) => this.cache.delete(userId));
  }

  resolve(userId: string): Promise<UserKey> | UserKey {
    return this.cache.get(userId) ?? this.loads.run(userId, () => this.load(userId));
  }

  /**
   * After a 401 with `failed`: the user's key is replaced once (one renewal per user however many
   * requests ask, across instances: the provisioner's single flight and lease), or the replacement
   * someone else made is picked up. Returns the key to retry with.
   */
  async renew(failed: UserKey, actor: AuditActor): Promise<UserKey> {
    const cached = this.cache.get(failed.userId);
    if (cached && cached.key !== failed.key) return cached; // a concurrent request already renewed it
    this.cache.delete(failed.userId);
    // The stored row first: a user whose key was disabled (deleted user) must not get a new one, and a key
    // already replaced by someone else (a refresh, another instance) is simply picked up.
    const stored = await this.store.find(failed.userId);
    if (stored?.status === 'disabled') throw GatewayErrors.keyDisabled();
    const current = stored && stored.upstreamHash !== failed.hash ? this.toUserKey(failed.userId, stored) : null;
    if (current && current.key !== failed.key) {
      this.cache.set(failed.userId, current);
      return current;
    }
    let row: OpenRouterKey;
    try {
      row = await this.provisioner.replace(failed.userId, 'renewal', actor, failed.hash);
    } catch (err) {
      throw renewalError(err);
    }
    const renewed = this.toUserKey(failed.userId, row);
    if (!renewed) throw GatewayErrors.renewalFailed(row.lastErrorCode ?? row.status);
    this.cache.set(failed.userId, renewed);
    return renewed;
  }

  /** Forgets a user's key (e.g. after it was replaced through another route). */
  forget(userId: string): void {
    this.cache.delete(userId);
  }

  private async load(userId: string): Promise<UserKey> {
    let row = await this.provisioner.currentKey(userId);
    if (!this.provisioner.isUsable(row)) row = await this.provisioner.ensureUserOpenRouterKey(userId);
    const key = this.toUserKey(userId, row);
    if (!key) throw unusable(row, this.provisioner.configured);
    this.cache.set(userId, key);
    return key;
  }

  private toUserKey(userId: string, row: OpenRouterKey | null): UserKey | null {
    if (!this.provisioner.isUsable(row)) return null;
    const key = this.store.plaintextOf(row);
    return key ? { userId, key, hash: row.upstreamHash } : null;
  }
}

function unusable(row: OpenRouterKey | null, provisioningConfigured: boolean): AppError {
  if (row?.status === 'disabled') return GatewayErrors.keyDisabled();
  if (!provisioningConfigured) return GatewayErrors.notConfigured();
  return GatewayErrors.keyUnavailable(row?.lastErrorCode ?? 'provisioning_failed');
}

function renewalError(err: unknown): unknown {
  if (!(err instanceof AppError)) return err; // database trouble: the global mapping applies
  if (err.code === 'openrouter_key_disabled' || err.code === 'rate_limited') return err; // an operator's decision; the limit
  if (err.code === 'openrouter_not_configured') return GatewayErrors.notConfigured();
  if (err.code === 'openrouter_key_busy') return GatewayErrors.keyBusy();
  if (err.code === 'user_not_active') return GatewayErrors.keyDisabled(); // the user was disabled meanwhile
  return GatewayErrors.renewalFailed(err.code);
}
