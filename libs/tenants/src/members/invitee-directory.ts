import type { UnitOfWork } from '#libs/database';

export interface Invitee {
  id: string;
  status: 'active' | 'pending' | 'deactivated';
  /** True when this call created the pending user. */
  created: boolean;
}

/**
 * Who a member is added as: a user by id, or by email (an email nobody signed in with yet becomes a pending user).
 * The users lib owns the `users` table and provides this; tenants only declares what it needs, since users
 * depends on tenants (login maps organizations to tenants) and not the other way round.
 */
export interface InviteeDirectory {
  byId(uow: UnitOfWork, userId: string): Promise<Invitee>;
  byEmail(uow: UnitOfWork, email: string): Promise<Invitee>;
}

export const INVITEE_DIRECTORY = Symbol('INVITEE_DIRECTORY');
