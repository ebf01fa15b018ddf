import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { OpenRouterKeyProvisioner } from '#libs/openrouter';
import { CacheTopic, InvalidationBus } from '#libs/redis';
import { TenantMappingService } from '#libs/tenants';
import { User } from '../user.entity';
import { ClerkClaims } from './clerk-claims';
import { ClerkProfileClient, ClerkProfile } from './clerk-profile.client';

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
  ) {}

  async isKnownSession(sessionId: string): Promise<boolean> {
    const rows = await this.dataSource.query(`SELECT 1 FROM user_sessions WHERE session_id = $1`, [sessionId]);
    return rows.length > 0;
  }

  /** Records the session; returns the user and whether this request was the session's first. */
  async login(claims: ClerkClaims & { sid: string }): Promise<{ user: User; firstOfSession: boolean }> {
    const profile = await this.profileFor(claims);
    const result = await this.dataSource.transaction(async (m) => {
      const user = await this.upsertUser(m, claims.sub, profile);
      const inserted = await m.query(
        `INSERT INTO user_sessions (session_id, user_id) VALUES ($1, $2) ON CONFLICT (session_id) DO NOTHING RETURNING session_id`,
        [claims.sid, user.id],
      );
      const firstOfSession = inserted.length > 0;
      if (firstOfSession) {
        await m.query(
          `UPDATE users SET login_count = login_count + 1, last_login_at = now(), updated_at = now() WHERE id = $1`,
          [user.id],
        );
        await this.tenants.ensurePersonalTenant(m, user);
      }
      if (claims.organization) await this.tenants.ensureOrganizationTenant(m, claims.organization, user.id);
      return { user: await m.findOneByOrFail(User, { id: user.id }), firstOfSession };
    });
    await this.bus.publish(CacheTopic.user, result.user.id);
    if (result.firstOfSession) await this.provisioner.ensureUserOpenRouterKey(result.user.id);
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

  /**
   * Creates or updates the user of a Clerk id. A pending user invited by this email is claimed
   * first, so that their memberships carry over.
   */
  private async upsertUser(m: EntityManager, clerkUserId: string, p: ClerkProfile): Promise<User> {
    if (p.email) {
      await m.query(
        `UPDATE users SET clerk_user_id = $1, status = 'active', updated_at = now()
         WHERE clerk_user_id IS NULL AND lower(email) = lower($2)
           AND NOT EXISTS (SELECT 1 FROM users WHERE clerk_user_id = $1)`,
        [clerkUserId, p.email],
      );
    }
    const rows = await m.query(
      `INSERT INTO users (clerk_user_id, email, first_name, last_name, image_url) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (clerk_user_id) WHERE clerk_user_id IS NOT NULL DO UPDATE SET
         email = COALESCE(EXCLUDED.email, users.email), first_name = COALESCE(EXCLUDED.first_name, users.first_name),
         last_name = COALESCE(EXCLUDED.last_name, users.last_name), image_url = COALESCE(EXCLUDED.image_url, users.image_url),
         updated_at = now()
       RETURNING id`,
      [clerkUserId, p.email, p.firstName, p.lastName, p.imageUrl],
    );
    return m.findOneByOrFail(User, { id: rows[0].id });
  }
}
