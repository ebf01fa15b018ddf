import { Inject, Injectable, Optional } from '@nestjs/common';
import { LruCache } from '#libs/common';
import { OpenRouterKeyStore } from '#libs/openrouter';
import { CacheTopic, InvalidationBus, REDIS_CLIENT, RedisClient } from '#libs/redis';
import { MembershipQueries } from '#libs/tenants';
import { MetricsService } from '#libs/metrics';
import { UserProviderKeyRepository } from '../user-provider-key.repository';
import { UserRepository } from '../user.repository';
import { UserSnapshot } from './user-snapshot';

/** A safety net only: every change publishes an invalidation, so entries rarely live this long. */
const TTL_MS = 30_000;

/**
 * Per-user snapshots keyed by Clerk user id, so that a signed-in request (auth and `/me`) needs no
 * database round trip once warm. Whoever changes a user, their key, memberships or tenants
 * publishes on the invalidation bus; every instance drops the entry. A load that overlaps an
 * invalidation is not cached (epoch check), so a stale read never outlives the change.
 */
@Injectable()
export class UserSnapshotCache {
  private readonly byClerkId = new LruCache<string, UserSnapshot>(50_000, TTL_MS);
  private readonly clerkIdOf = new LruCache<string, string>(50_000, TTL_MS);
  private epoch = 0;

  constructor(
    private readonly users: UserRepository,
    private readonly providerKeys: UserProviderKeyRepository,
    private readonly keys: OpenRouterKeyStore,
    private readonly memberships: MembershipQueries,
    bus: InvalidationBus,
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    @Optional() private readonly metrics?: MetricsService,
  ) {
    bus.on(CacheTopic.user, (userId) => this.dropUser(userId));
    bus.on(CacheTopic.tenant, (tenantId) => this.dropTenant(tenantId));
    // Invalidations from other instances are lost while Redis is down: start afresh when it returns.
    redis?.on('ready', () => this.dropAll());
  }

  async get(clerkUserId: string): Promise<UserSnapshot | null> {
    const cached = this.trusted ? this.byClerkId.get(clerkUserId) : undefined;
    this.metrics?.cacheLookup('user_snapshot', cached !== undefined);
    return cached ?? this.load(clerkUserId);
  }

  /** Without Redis there is one instance and every change is seen; with Redis, only while connected. */
  private get trusted(): boolean {
    return !this.redis || this.redis.status === 'ready';
  }

  private dropAll(): void {
    this.epoch++;
    this.byClerkId.clear();
    this.clerkIdOf.clear();
  }

  private async load(clerkUserId: string): Promise<UserSnapshot | null> {
    const epoch = this.epoch;
    const user = await this.users.findByClerkId(clerkUserId);
    if (!user) return null;
    const [tenants, keyRow, glmKeyEncrypted] = await Promise.all([
      this.memberships.tenantsOf(user.id),
      this.keys.find(user.id),
      this.providerKeys.sealedGlmKeyOf(user.id),
    ]);
    const snapshot: UserSnapshot = { user, tenants, keyRow, glmKeyEncrypted };
    if (epoch === this.epoch) {
      this.byClerkId.set(clerkUserId, snapshot);
      this.clerkIdOf.set(user.id, clerkUserId);
    }
    return snapshot;
  }

  private dropUser(userId: string): void {
    this.epoch++;
    const clerkUserId = this.clerkIdOf.get(userId);
    if (clerkUserId) this.byClerkId.delete(clerkUserId);
    this.clerkIdOf.delete(userId);
  }

  private dropTenant(tenantId: string): void {
    this.epoch++;
    this.byClerkId.deleteWhere((s) => s.tenants.some((t) => t.id === tenantId));
  }
}
