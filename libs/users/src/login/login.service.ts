import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { unitOfWorkOf } from '#libs/database';
import { ClerkClaims, ClerkProfile, ClerkProfileClient } from '#libs/clerk';
import { OpenRouterKeyProvisioner } from '#libs/openrouter';
import { CacheTopic, InvalidationBus } from '#libs/redis';
import { TenantMappingService } from '#libs/tenants';
import { UserAccounts } from '../accounts/user-accounts.service';
import { User } from '../user.entity';

/**
 * The login hook. The first request of a session id not seen before is a login: the user is created
 * or updated, `last_login_at`/`login_count` move, tenants and memberships follow the claims, and
 * the user gets an OpenRouter key if they have none. Later requests of the session only read.
 */
@Injectable()
export class LoginService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly tenants: TenantMappingService,
    private readonly profiles: ClerkProfileClient,
    private readonly provisioner: OpenRouterKeyProvisioner,
    private readonly bus: InvalidationBus,
    private readonly accounts: UserAccounts,
  ) {}

  async isKnownSession(sessionId: string): Promise<boolean> {
    const rows = await this.dataSource.query(`SELECT 1 FROM user_sessions WHERE session_id = $1`, [sessionId]);
    return rows.length > 0;
  }

  /** Records the session; returns the user and whether this request was the session's first. */
  async login(claims: ClerkClaims & { sid: string }): Promise<{ user: User; firstOfSession: boolean }> {
    const startedAt = new Date();
    const profile = await this.profileFor(claims);
    const result = await this.dataSource.transaction(async (m) => {
      const userId = await this.accounts.upsertFromClerk(unitOfWorkOf(m), claims.sub, profileFields(profile), false);
      const user = await m.findOneByOrFail(User, { id: userId });
      const inserted = await m.query(
        `INSERT INTO user_sessions (session_id, user_id) VALUES ($1, $2) ON CONFLICT (session_id) DO NOTHING RETURNING session_id`,
        [claims.sid, user.id],
      );
      const firstOfSession = inserted.length > 0;
      if (firstOfSession) {
        await this.accounts.recordLogin(unitOfWorkOf(m), user.id);
        await this.tenants.ensurePersonalTenant(unitOfWorkOf(m), user);
      }
      if (claims.organization)
        await this.tenants.ensureOrganizationTenant(unitOfWorkOf(m), claims.organization, user.id);
      return { user: await m.findOneByOrFail(User, { id: user.id }), firstOfSession };
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
