import { Injectable } from '@nestjs/common';
import { entityManagerOf, type UnitOfWork } from '#libs/database';
import type { EntityManager } from 'typeorm';

export interface UserRef {
  id: string;
  status: 'active' | 'pending' | 'deactivated';
}

export interface ClerkProfileFields {
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  imageUrl: string | null;
}

/**
 * The one writer of `users` rows for Clerk identities (login hook and Clerk webhooks): creating a
 * user, claiming the pending user an invitation made for their email, updating the profile and
 * deactivating. Each method runs in the caller's transaction.
 */
@Injectable()
export class UserAccounts {
  /**
   * Creates or updates the user of a Clerk id. A pending user invited by this email is claimed first, so
   * that their memberships carry over. `complete`: the profile is Clerk's whole record (a webhook), so an
   * absent name clears it; otherwise (session claims, which may omit fields) absent fields keep theirs.
   */
  async upsertFromClerk(
    uow: UnitOfWork,
    clerkUserId: string,
    p: ClerkProfileFields,
    complete: boolean,
  ): Promise<string> {
    const m = entityManagerOf(uow);
    if (p.email) await this.claimPending(m, clerkUserId, p.email);
    const keep = (column: string) =>
      complete ? `EXCLUDED.${column}` : `COALESCE(EXCLUDED.${column}, users.${column})`;
    const rows: { id: string }[] = await m.query(
      `INSERT INTO users (clerk_user_id, email, first_name, last_name, image_url) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (clerk_user_id) WHERE clerk_user_id IS NOT NULL DO UPDATE SET
         email = COALESCE(EXCLUDED.email, users.email), first_name = ${keep('first_name')},
         last_name = ${keep('last_name')}, image_url = ${keep('image_url')}, updated_at = now()
       RETURNING id`,
      [clerkUserId, p.email, p.firstName, p.lastName, p.imageUrl],
    );
    return rows[0].id;
  }

  /** The user of a Clerk id, created (or claimed) when unknown; an existing row is left as it is. */
  async ensureKnown(uow: UnitOfWork, clerkUserId: string, p: ClerkProfileFields): Promise<UserRef | null> {
    const m = entityManagerOf(uow);
    const existing = await this.byClerkId(uow, clerkUserId);
    if (existing) return existing;
    if (p.email) await this.claimPending(m, clerkUserId, p.email);
    await m.query(
      `INSERT INTO users (clerk_user_id, email, first_name, last_name, image_url) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (clerk_user_id) WHERE clerk_user_id IS NOT NULL DO NOTHING`,
      [clerkUserId, p.email, p.firstName, p.lastName, p.imageUrl],
    );
    return this.byClerkId(uow, clerkUserId);
  }

  /** Row-locked for the caller's transaction. */
  async byClerkId(uow: UnitOfWork, clerkUserId: string): Promise<UserRef | null> {
    const m = entityManagerOf(uow);
    const rows: UserRef[] = await m.query(`SELECT id, status FROM users WHERE clerk_user_id = $1 FOR UPDATE`, [
      clerkUserId,
    ]);
    return rows[0] ?? null;
  }

  /** A login of a new session: the counters move. */
  async recordLogin(uow: UnitOfWork, userId: string): Promise<void> {
    const m = entityManagerOf(uow);
    await m.query(
      `UPDATE users SET login_count = login_count + 1, last_login_at = now(), updated_at = now() WHERE id = $1`,
      [userId],
    );
  }

  async deactivate(uow: UnitOfWork, userId: string): Promise<void> {
    const m = entityManagerOf(uow);
    await m.query(`UPDATE users SET status = 'deactivated', updated_at = now() WHERE id = $1`, [userId]);
  }

  /** Gives a pending (invited, never signed-in) user with this email the Clerk id: they have now signed in. */
  private async claimPending(m: EntityManager, clerkUserId: string, email: string): Promise<void> {
    await m.query(
      `UPDATE users SET clerk_user_id = $1, status = 'active', updated_at = now()
        WHERE clerk_user_id IS NULL AND lower(email) = lower($2)
          AND NOT EXISTS (SELECT 1 FROM users WHERE clerk_user_id = $1)`,
      [clerkUserId, email],
    );
  }
}
