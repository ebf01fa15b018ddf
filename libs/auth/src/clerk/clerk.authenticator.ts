import { Injectable } from '@nestjs/common';
import { AppError, LruCache, RequestContext } from '#libs/common';
import { AppConfig } from '#libs/config';
import { Transactions } from '#libs/database';
import { CacheTopic, InvalidationBus } from '#libs/redis';
import { TenantMappingService, TenantWithRole } from '#libs/tenants';
import { ClerkClaims, LoginService, UserSnapshot, UserSnapshotCache } from '#libs/users';
import { ClerkTokenVerifier } from './clerk-token.verifier';
import { AuthErrors } from '../auth.errors';

/**
 * Turns a Clerk session token into the request context: verifies it, runs the login hook on the
 * first request of a session, and picks the active tenant (X-Tenant-ID, the organization claim, or
 * the personal tenant).
 */
@Injectable()
export class ClerkAuthenticator {
  /** Sessions known to have logged in, so that later requests skip the login check. */
  private readonly seenSessions = new LruCache<string, true>(50_000, 10 * 60_000);

  constructor(
    private readonly transactions: Transactions,
    private readonly verifier: ClerkTokenVerifier,
    private readonly login: LoginService,
    private readonly snapshots: UserSnapshotCache,
    private readonly mapping: TenantMappingService,
    private readonly config: AppConfig,
    private readonly bus: InvalidationBus,
  ) {}

  async authenticate(token: string, tenantHeader: string | undefined): Promise<RequestContext> {
    const claims = await this.verifier.verify(token);
    const snapshot = await this.userOf(claims as ClerkClaims & { sid: string });
    const { user } = snapshot;
    if (user.status === 'deactivated') throw new AppError('user_deactivated', 'This user has been deactivated');
    const tenant = await this.activeTenant(snapshot, claims, tenantHeader);
    return {
      kind: 'clerk',
      tenant: { id: tenant.id, name: tenant.name, slug: tenant.slug },
      user: { id: user.id, clerkUserId: user.clerkUserId, email: user.email },
      apiKey: null,
      role: tenant.role,
      sessionId: claims.sid,
      isPlatformAdmin: this.config.platformAdminUserIds.has(claims.sub),
    };
  }

  private async userOf(claims: ClerkClaims & { sid: string }): Promise<UserSnapshot> {
    if (this.seenSessions.get(claims.sid) || (await this.login.isKnownSession(claims.sid))) {
      const snapshot = await this.snapshots.get(claims.sub);
      if (snapshot) {
        this.seenSessions.set(claims.sid, true);
        return snapshot;
      }
      // The session is known but its user is gone (deleted): treat it as a fresh login.
    }
    await this.login.login(claims);
    this.seenSessions.set(claims.sid, true);
    return (await this.snapshots.get(claims.sub))!;
  }

  /** X-Tenant-ID (id or slug), else the organization claim's tenant, else the personal tenant. */
  private async activeTenant(
    snapshot: UserSnapshot,
    claims: ClerkClaims,
    tenantHeader: string | undefined,
  ): Promise<TenantWithRole> {
    const { user, tenants } = snapshot;
    if (tenantHeader !== undefined) {
      const chosen = tenants.find((t) => t.id === tenantHeader || t.slug === tenantHeader);
      if (!chosen) throw AuthErrors.tenantMismatch();
      return chosen;
    }
    const org = claims.organization;
    const wanted = (t: TenantWithRole) => (org ? t.clerkOrgId === org.id : t.personalOwnerId === user.id);
    const found = tenants.find(wanted);
    if (found) return found;
    // The organization changed within a known session, or the personal tenant is missing: map it now.
    await this.transactions.run((uow) =>
      org ? this.mapping.ensureOrganizationTenant(uow, org, user.id) : this.mapping.ensurePersonalTenant(uow, user),
    );
    await this.bus.publish(CacheTopic.user, user.id);
    const fresh = await this.snapshots.get(claims.sub);
    const mapped = fresh?.tenants.find(wanted);
    if (!mapped) throw AuthErrors.tenantMismatch('No tenant could be resolved for this session');
    return mapped;
  }
}
