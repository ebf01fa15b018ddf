import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { TableRepository, type UnitOfWork } from '#libs/database';
import type { Invitee } from '#libs/tenants';
import { User } from './user.entity';

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

/** The `users` table: Clerk identities, pending (invited) users, login counters. */
@Injectable()
export class UserRepository extends TableRepository {
  constructor(@InjectDataSource() dataSource: DataSource) {
    super(dataSource);
  }

  /** Gives a pending (invited, never signed-in) user with this email the Clerk id: they have now signed in. */
  async claimPending(uow: UnitOfWork, clerkUserId: string, email: string): Promise<void> {
    await this.manager(uow).query(
      `UPDATE users SET clerk_user_id = $1, status = 'active', updated_at = now()
        WHERE clerk_user_id IS NULL AND lower(email) = lower($2)
          AND NOT EXISTS (SELECT 1 FROM users WHERE clerk_user_id = $1)`,
      [clerkUserId, email],
    );
  }

  /**
   * Creates or updates the user of a Clerk id; returns its id. `complete`: the profile is Clerk's whole record,
   * so an absent name clears it; otherwise absent fields keep theirs (the email always does).
   */
  async upsertFromClerk(
    uow: UnitOfWork,
    clerkUserId: string,
    p: ClerkProfileFields,
    complete: boolean,
  ): Promise<string> {
    const keep = (column: string) =>
      complete ? `EXCLUDED.${column}` : `COALESCE(EXCLUDED.${column}, users.${column})`;
    const rows: { id: string }[] = await this.manager(uow).query(
      `INSERT INTO users (clerk_user_id, email, first_name, last_name, image_url) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (clerk_user_id) WHERE clerk_user_id IS NOT NULL DO UPDATE SET
         email = COALESCE(EXCLUDED.email, users.email), first_name = ${keep('first_name')},
         last_name = ${keep('last_name')}, image_url = ${keep('image_url')}, updated_at = now()
       RETURNING id`,
      [clerkUserId, p.email, p.firstName, p.lastName, p.imageUrl],
    );
    return rows[0].id;
  }

  /** Creates the user of a Clerk id unless one exists (which is left as it is). */
  async insertIfAbsent(uow: UnitOfWork, clerkUserId: string, p: ClerkProfileFields): Promise<void> {
    await this.manager(uow).query(
      `INSERT INTO users (clerk_user_id, email, first_name, last_name, image_url) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (clerk_user_id) WHERE clerk_user_id IS NOT NULL DO NOTHING`,
      [clerkUserId, p.email, p.firstName, p.lastName, p.imageUrl],
    );
  }

  /** Row-locked for the rest of the transaction. */
  async lockByClerkId(uow: UnitOfWork, clerkUserId: string): Promise<UserRef | null> {
    const rows: UserRef[] = await this.manager(uow).query(
      `SELECT id, status FROM users WHERE clerk_user_id = $1 FOR UPDATE`,
      [clerkUserId],
    );
    return rows[0] ?? null;
  }

  async recordLogin(uow: UnitOfWork, userId: string): Promise<void> {
    await this.manager(uow).query(
      `UPDATE users SET login_count = login_count + 1, last_login_at = now(), updated_at = now() WHERE id = $1`,
      [userId],
    );
  }

  async deactivate(uow: UnitOfWork, userId: string): Promise<void> {
    await this.manager(uow).query(`UPDATE users SET status = 'deactivated', updated_at = now() WHERE id = $1`, [
      userId,
    ]);
  }

  get(id: string, uow?: UnitOfWork): Promise<User> {
    return this.manager(uow).findOneByOrFail(User, { id });
  }

  findByClerkId(clerkUserId: string, uow?: UnitOfWork): Promise<User | null> {
    return this.manager(uow).getRepository(User).findOneBy({ clerkUserId });
  }

  async inviteeById(userId: string, uow?: UnitOfWork): Promise<Invitee | null> {
    const rows: Invitee[] = await this.manager(uow).query(
      `SELECT id, status, false AS created FROM users WHERE id = $1`,
      [userId],
    );
    return rows[0] ?? null;
  }

  /** The user of a (lower-case) email: a signed-in user first, then a pending one; a deactivated account last. */
  async inviteeByEmail(email: string, uow?: UnitOfWork): Promise<Invitee | null> {
    const rows: Invitee[] = await this.manager(uow).query(
      `SELECT id, status, false AS created FROM users WHERE lower(email) = $1
       ORDER BY (status = 'deactivated'), (clerk_user_id IS NULL), created_at LIMIT 1`,
      [email],
    );
    return rows[0] ?? null;
  }

  /**
   * A pending user for an email; null when one exists already. The partial unique index on pending emails makes
   * concurrent invitations converge on one row.
   */
  async insertPending(uow: UnitOfWork, email: string): Promise<string | null> {
    const inserted: { id: string }[] = await this.manager(uow).query(
      `INSERT INTO users (email, status) VALUES ($1, 'pending') ON CONFLICT ((lower(email))) WHERE clerk_user_id IS NULL DO NOTHING RETURNING id`,
      [email],
    );
    return inserted[0]?.id ?? null;
  }
}
