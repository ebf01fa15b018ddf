import { Injectable } from '@nestjs/common';
import type { UnitOfWork } from '#libs/database';
import { ClerkProfileFields, UserRef, UserRepository } from '../user.repository';

export type { ClerkProfileFields, UserRef } from '../user.repository';

/**
 * The one writer of `users` rows for Clerk identities (login hook and Clerk webhooks): creating a
 * user, claiming the pending user an invitation made for their email, updating the profile and
 * deactivating. Each method runs in the caller's transaction.
 */
@Injectable()
export class UserAccounts {
  constructor(private readonly users: UserRepository) {}

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
    if (p.email) await this.users.claimPending(uow, clerkUserId, p.email);
    return this.users.upsertFromClerk(uow, clerkUserId, p, complete);
  }

  /** The user of a Clerk id, created (or claimed) when unknown; an existing row is left as it is. */
  async ensureKnown(uow: UnitOfWork, clerkUserId: string, p: ClerkProfileFields): Promise<UserRef | null> {
    const existing = await this.byClerkId(uow, clerkUserId);
    if (existing) return existing;
    if (p.email) await this.users.claimPending(uow, clerkUserId, p.email);
    await this.users.insertIfAbsent(uow, clerkUserId, p);
    return this.byClerkId(uow, clerkUserId);
  }

  /** Row-locked for the caller's transaction. */
  byClerkId(uow: UnitOfWork, clerkUserId: string): Promise<UserRef | null> {
    return this.users.lockByClerkId(uow, clerkUserId);
  }

  /** A login of a new session: the counters move. */
  recordLogin(uow: UnitOfWork, userId: string): Promise<void> {
    return this.users.recordLogin(uow, userId);
  }

  deactivate(uow: UnitOfWork, userId: string): Promise<void> {
    return this.users.deactivate(uow, userId);
  }
}
