import { Injectable } from '@nestjs/common';
import type { UnitOfWork } from '#libs/database';
import { AppError, Errors } from '#libs/common';
import type { Invitee, InviteeDirectory } from '#libs/tenants';
import { UserRepository } from '../user.repository';

/**
 * Finds the user a member is added as: by id, or by email. An email nobody signed in with yet becomes a
 * pending user (`status` pending, no Clerk id); the login hook claims it at that email's first sign-in,
 * and its memberships carry over.
 */
@Injectable()
export class PendingInvitees implements InviteeDirectory {
  constructor(private readonly users: UserRepository) {}

  async byId(uow: UnitOfWork, userId: string): Promise<Invitee> {
    const invitee = await this.users.inviteeById(userId, uow);
    if (!invitee) throw Errors.notFound('User');
    return usable(invitee);
  }

  async byEmail(uow: UnitOfWork, rawEmail: string): Promise<Invitee> {
    const email = rawEmail.trim().toLowerCase();
    const existing = await this.users.inviteeByEmail(email, uow);
    if (existing) return usable(existing);
    const id = await this.users.insertPending(uow, email);
    if (id) return { id, status: 'pending', created: true };
    // A concurrent invitation created it meanwhile: both converge on that row.
    const raced = await this.users.inviteeByEmail(email, uow);
    if (!raced) throw new Error('Pending user vanished');
    return usable(raced);
  }
}

function usable(invitee: Invitee): Invitee {
  if (invitee.status === 'deactivated') throw new AppError('invitee_deactivated', 'This user has been deactivated');
  return invitee;
}
