import { Injectable } from '@nestjs/common';
import { Transactions } from '#libs/database';
import { ClerkClaims, ClerkProfile, ClerkProfileClient } from '#libs/clerk';
import { OpenRouterKeyProvisioner } from '#libs/openrouter';
import { CacheTopic, InvalidationBus } from '#libs/redis';
import { TenantMappingService } from '#libs/tenants';
import { UserAccounts } from '../accounts/user-accounts.service';
import { User } from '../user.entity';
import { UserSessionRepository } from '../user-session.repository';
import { UserRepository } from '../user.repository';

/**
 * The login hook. The first request of a session id not seen before is a login: the user is created
 * or updated, `last_login_at`/`login_count` move, tenants and memberships follow the claims, and
 * the user gets an OpenRouter key if they have none. Later requests of the session only read.
 */
@Injectable()
export class LoginService {
  constructor(
    private readonly transactions: Transactions,
    private readonly users: UserRepository,
    private readonly sessions: UserSessionRepository,
    private readonly tenants: TenantMappingService,
    private readonly profiles: ClerkProfileClient,
    private readonly provisioner: OpenRouterKeyProvisioner,
    private readonly bus: InvalidationBus,
    private readonly accounts: UserAccounts,
  ) {}

  isKnownSession(sessionId: string): Promise<boolean> {
    return this.sessions.isKnown(sessionId);
  }

  /** Records the session; returns the user and whether this request was the session's first. */
  async login(claims: ClerkClaims & { sid: string }): Promise<{ user: User; firstOfSession: boolean }> {
    const startedAt = new Date();
    const profile = await this.profileFor(claims);
    const result = await this.transactions.run(async (uow) => {
      const userId = await this.accounts.upsertFromClerk(uow, claims.sub, profileFields(profile), false);
      const user = await this.users.get(userId, uow);
      const firstOfSession = await this.sessions.insert(uow, claims.sid, user.id);
      if (firstOfSession) {
        await this.accounts.recordLogin(uow, user.id);
        await this.tenants.ensurePersonalTenant(uow, user);
      }
      if (claims.organization) await this.tenants.ensureOrganizationTenant(uow, claims.organization, user.id);
      return { user: await this.users.get(user.id, uow), firstOfSession };
    });
    await this.bus.publish(CacheTopic.user, result.user.id);
    // Logins arriving together (several sessions at once) share the attempt one of them made meanwhile.
    if (result.firstOfSession) await this.provisioner.ensureUserOpenRouterKey(result.user.id, startedAt);
    return result;
  }

  private async profileFor(claims: ClerkClaims): Promise<ClerkProfile> {
    const fromClaims = {
      email: claims.email,
      firstName: claims.firstName,
      lastName: claims.lastName,
      imageUrl: claims.imageUrl,
    };
    if (claims.email) return fromClaims;
    return (await this.profiles.fetch(claims.sub)) ?? fromClaims;
  }
}

function profileFields(p: ClerkProfile) {
  return {
    email: p.email ?? null,
    firstName: p.firstName ?? null,
    lastName: p.lastName ?? null,
    imageUrl: p.imageUrl ?? null,
  };
}
