import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppError, Errors, LruCache, RequestContext } from '../../../common/src';
import { AppConfig } from '../../../config/src';
import { MembershipQueries, TenantMappingService, TenantWithRole } from '../../../tenants/src';
import { ClerkClaims, LoginService, User } from '../../../users/src';
import { ClerkTokenVerifier } from './clerk-token.verifier';

type UserRef = Pick<User, 'id' | 'clerkUserId' | 'email' | 'status' | 'firstName'>;

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
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly verifier: ClerkTokenVerifier,
    private readonly login: LoginService,
    private readonly memberships: MembershipQueries,
    private readonly mapping: TenantMappingService,
    private readonly config: AppConfig,
  ) {}

  async authenticate(token: string, tenantHeader: string | undefined): Promise<RequestContext> {
    const claims = await this.verifier.verify(token);
    const user = await this.userOf(claims as ClerkClaims & { sid: string });
    if (user.status === 'deactivated') throw new AppError(403, 'user_deactivated', 'This user has been deactivated');
    const tenant = await this.activeTenant(user, claims, tenantHeader);
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

  private async userOf(claims: ClerkClaims & { sid: string }): Promise<UserRef> {
    if (this.seenSessions.get(claims.sid) || (await this.login.isKnownSession(claims.sid))) {
      const rows: UserRef[] = await this.dataSource.query(
        `SELECT id, clerk_user_id AS "clerkUserId", email, status, first_name AS "firstName" FROM users WHERE clerk_user_id = $1`,
        [claims.sub],
      );
      if (rows[0]) {
        this.seenSessions.set(claims.sid, true);
        return rows[0];
      }
      // The session is known but its user is gone (deleted): treat it as a fresh login.
    }
    const { user } = await this.login.login(claims);
    this.seenSessions.set(claims.sid, true);
    return user;
  }

  private async activeTenant(user: UserRef, claims: ClerkClaims, tenantHeader: string | undefined): Promise<TenantWithRole> {
    if (tenantHeader !== undefined) {
      const valid = /^[A-Za-z0-9_-]{1,64}$/.test(tenantHeader);
      const chosen = valid ? await this.memberships.byIdOrSlug(user.id, tenantHeader) : null;
      if (!chosen) throw Errors.tenantMismatch();
      return chosen;
    }
    if (claims.organization) {
      const org = claims.organization;
      const found = await this.memberships.byOrganization(user.id, org.id);
      if (found) return found;
      // The organization changed within a known session: map it now.
      await this.dataSource.transaction((m) => this.mapping.ensureOrganizationTenant(m, org, user.id));
      return (await this.memberships.byOrganization(user.id, org.id))!;
    }
    const personal = await this.memberships.personal(user.id);
    if (personal) return personal;
    await this.dataSource.transaction((m) => this.mapping.ensurePersonalTenant(m, user));
    return (await this.memberships.personal(user.id))!;
  }
}
