import { Injectable } from '@nestjs/common';
import type { UnitOfWork } from '#libs/database';
import { AuditService, type AuditScope } from '#libs/audit';
import {
  ClerkPublicUserData,
  ClerkUserData,
  profileFromPublicUserData,
  profileFromUser,
  requireClerkUserId,
} from '#libs/clerk';
import { KeyDeletionQueue } from '#libs/openrouter';
import { UserAccounts, UserRef } from '#libs/users';
import { AppliedChanges } from './clerk-event.types';

/**
 * Applies Clerk's user events through the owners: the users lib's accounts (profile, claim,
 * deactivation) and, for user.deleted, everything the user holds (API keys, the OpenRouter key).
 */
@Injectable()
export class ClerkUserSync {
  constructor(
    private readonly audit: AuditService,
    private readonly deletions: KeyDeletionQueue,
    private readonly accounts: UserAccounts,
  ) {}

  /**
   * user.created / user.updated: the profile as Clerk has it. A pending user invited by this email
   * is claimed first (as at login), so that their memberships carry over. The status is left alone:
   * an update never reactivates a deleted user.
   */
  async upsertProfile(uow: UnitOfWork, data: ClerkUserData, changes: AppliedChanges): Promise<boolean> {
    const clerkUserId = requireClerkUserId(data.id);
    const id = await this.accounts.upsertFromClerk(uow, clerkUserId, profileFromUser(data), true);
    changes.users.add(id);
    return true;
  }

  /**
   * The user a membership event names, created from the event's public data when Clerk tells us
   * about them before their first sign-in. Null for a deactivated user: Clerk deleted them.
   */
  async ensureForMembership(uow: UnitOfWork, data: ClerkPublicUserData): Promise<UserRef | null> {
    const clerkUserId = requireClerkUserId(data.user_id);
    const user = await this.accounts.ensureKnown(uow, clerkUserId, profileFromPublicUserData(data));
    return user && user.status !== 'deactivated' ? user : null;
  }

  byClerkId(uow: UnitOfWork, clerkUserId: string): Promise<UserRef | null> {
    return this.accounts.byClerkId(uow, clerkUserId);
  }

  /**
   * user.deleted: the user is deactivated (kept, so that the audit trail and usage still name them),
   * their tenant API keys revoked, and their OpenRouter key disabled here and queued for deletion
   * upstream in this transaction; the deletion itself runs after the commit (retried until done).
   * Returns false when the user is unknown or already deactivated.
   */
  async deactivate(
    uow: UnitOfWork,
    clerkUserIdRaw: unknown,
    scope: AuditScope,
    changes: AppliedChanges,
    revokeApiKeys: (uow: UnitOfWork, userId: string) => Promise<() => void | Promise<void>>,
  ): Promise<boolean> {
    const clerkUserId = requireClerkUserId(clerkUserIdRaw);
    const user = await this.byClerkId(uow, clerkUserId);
    if (!user || user.status === 'deactivated') return false;
    await this.accounts.deactivate(uow, user.id);
    // Every key acting as the user, in every tenant, revoked and audited as api_key.revoked.
    changes.afterCommit.push(await revokeApiKeys(uow, user.id));

    const hash = await this.deletions.disableUserKey(uow, user.id, 'user_deleted');
    if (hash) changes.upstreamKeys.add(hash);
    await this.audit.record(
      {
        action: 'user.deactivated',
        ...scope,
        target: { type: 'user', id: user.id },
        metadata: { clerk_user_id: clerkUserId, openrouter_key_hash: hash },
      },
      uow,
    );
    changes.users.add(user.id);
    return true;
  }
}
