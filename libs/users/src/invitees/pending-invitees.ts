import { Injectable } from '@nestjs/common';
import { entityManagerOf, type UnitOfWork } from '#libs/database';
import type { EntityManager } from 'typeorm';
import { AppError, Errors } from '#libs/common';
import type { Invitee, InviteeDirectory } from '#libs/tenants';

/**
 * Finds the user a member is added as: by id, or by email. An email nobody signed in with yet becomes a
 * pending user (`status` pending, no Clerk id); the login hook claims it at that email's first sign-in,
 * and its memberships carry over.
 */
@Injectable()
export class PendingInvitees implements InviteeDirectory {
  async byId(uow: UnitOfWork, userId: string): Promise<Invitee> {
    const m = entityManagerOf(uow);
    const rows: Invitee[] = await m.query(`SELECT id, status, false AS created FROM users WHERE id = $1`, [userId]);
    if (!rows[0]) throw Errors.notFound('User');
    return usable(rows[0]);
  }

  async byEmail(uow: UnitOfWork, rawEmail: string): Promise<Invitee> {
    const m = entityManagerOf(uow);
    const email = rawEmail.trim().toLowerCase();
    const existing = await this.findByEmail(m, email);
    if (existing) return usable(existing);
    // The partial unique index on pending emails makes concurrent invitations converge on one row.
    const inserted: { id: string }[] = await m.query(
      `INSERT INTO users (email, status) VALUES ($1, 'pending') ON CONFLICT ((lower(email))) WHERE clerk_user_id IS NULL DO NOTHING RETURNING id`,
      [email],
    );
    if (inserted[0]) return { id: inserted[0].id, status: 'pending', created: true };
    const raced = await this.findByEmail(m, email);
    if (!raced) throw new Error('Pending user vanished');
    return usable(raced);
  }

  /** A signed-in user first, then a pending one; a deactivated account last. */
  private async findByEmail(m: EntityManager, email: string): Promise<Invitee | null> {
    const rows: Invitee[] = await m.query(
      `SELECT id, status, false AS created FROM users WHERE lower(email) = $1
       ORDER BY (status = 'deactivated'), (clerk_user_id IS NULL), created_at LIMIT 1`,
      [email],
    );
    return rows[0] ?? null;
  }
}

function usable(invitee: Invitee): Invitee {
  if (invitee.status === 'deactivated') throw new AppError('invitee_deactivated', 'This user has been deactivated');
  return invitee;
}
