import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AuditService } from '#libs/audit';
import { AppError } from '#libs/common';
import { KeyDeletionQueue } from '#libs/openrouter';
import type { AuditScope } from '#libs/tenants';
import { AppliedChanges, ClerkUserData, primaryEmail } from './clerk-event.types';

export interface UserRef {
  id: string;
  status: 'active' | 'pending' | 'deactivated';
}

/** Applies Clerk's user events to `users` (and, for user.deleted, to everything the user holds). */
@Injectable()
export class ClerkUserSync {
  constructor(
    private readonly audit: AuditService,
    private readonly deletions: KeyDeletionQueue,
  ) {}

  /**
   * user.created / user.updated: the profile as Clerk has it. A pending user invited by this email
   * is claimed first (as at login), so that their memberships carry over. The status is left alone:
   * an update never reactivates a deleted user.
   */
  async upsertProfile(m: EntityManager, data: ClerkUserData, changes: AppliedChanges): Promise<boolean> {
    const clerkUserId = requireClerkUserId(data.id);
    const email = primaryEmail(data);
    if (email) await this.claimPending(m, clerkUserId, email);
    const rows: { id: string }[] = await m.query(
      `INSERT INTO users (clerk_user_id, email, first_name, last_name, image_url) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (clerk_user_id) WHERE clerk_user_id IS NOT NULL DO UPDATE SET
         email = COALESCE(EXCLUDED.email, users.email), first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name,
         image_url = EXCLUDED.image_url, updated_at = now()
       RETURNING id`,
      [
        clerkUserId,
        email,
        text(data.first_name),
        text(data.last_name),
        text(data.image_url) ?? text(data.profile_image_url),
      ],
    );
    changes.users.add(rows[0].id);
    return true;
  }

  /**
   * The user a membership event names, created from the event's public data when Clerk tells us
   * about them before their first sign-in. Null for a deactivated user: Clerk deleted them.
   */
  async ensureForMembership(
    m: EntityManager,
    data: {
      user_id?: string;
      identifier?: string | null;
      first_name?: string | null;
      last_name?: string | null;
      image_url?: string | null;
    },
  ): Promise<UserRef | null> {
    const clerkUserId = requireClerkUserId(data.user_id);
    const existing = await this.byClerkId(m, clerkUserId);
    if (existing) return existing.status === 'deactivated' ? null : existing;
    const email = typeof data.identifier === 'string' && data.identifier.includes('@') ? data.identifier.trim() : null;
    if (email) await this.claimPending(m, clerkUserId, email);
    await m.query(
      `INSERT INTO users (clerk_user_id, email, first_name, last_name, image_url) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (clerk_user_id) WHERE clerk_user_id IS NOT NULL DO NOTHING`,
      [clerkUserId, email, text(data.first_name), text(data.last_name), text(data.image_url)],
    );
    const user = await this.byClerkId(m, clerkUserId);
    return user && user.status !== 'deactivated' ? user : null;
  }

  async byClerkId(m: EntityManager, clerkUserId: string): Promise<UserRef | null> {
    const rows: UserRef[] = await m.query(`SELECT id, status FROM users WHERE clerk_user_id = $1 FOR UPDATE`, [
      clerkUserId,
    ]);
    return rows[0] ?? null;
  }

  /**
   * user.deleted: the user is deactivated (kept, so that the audit trail and usage still name them),
   * their tenant API keys revoked, and their OpenRouter key disabled here and queued for deletion
   * upstream in this transaction; the deletion itself runs after the commit (retried until done).
   * Returns false when the user is unknown or already deactivated.
   */
  async deactivate(
    m: EntityManager,
    clerkUserIdRaw: unknown,
    scope: AuditScope,
    changes: AppliedChanges,
    revokeApiKeys: (m: EntityManager, userId: string) => Promise<() => void | Promise<void>>,
  ): Promise<boolean> {
    const clerkUserId = requireClerkUserId(clerkUserIdRaw);
    const user = await this.byClerkId(m, clerkUserId);
    if (!user || user.status === 'deactivated') return false;
    await m.query(`UPDATE users SET status = 'deactivated', updated_at = now() WHERE id = $1`, [user.id]);
    // Issue 3's revoker: every key acting as the user, in every tenant, audited as api_key.revoked.
    changes.afterCommit.push(await revokeApiKeys(m, user.id));

    const keyRows: { upstream_hash: string | null }[] = await m.query(
      `SELECT upstream_hash FROM openrouter_keys WHERE user_id = $1 FOR UPDATE`,
      [user.id],
    );
    const hash = keyRows[0]?.upstream_hash ?? null;
    // A 'disabled' row (inserted if missing) also stops the login hook from provisioning a new key.
    await m.query(
      `INSERT INTO openrouter_keys (user_id, status) VALUES ($1, 'disabled')
       ON CONFLICT (user_id) DO UPDATE SET status = 'disabled', key_encrypted = NULL, upstream_hash = NULL, label = NULL,
         last_error_code = NULL, updated_at = now()`,
      [user.id],
    );
    if (hash) {
      await this.deletions.enqueue(m, hash, user.id, 'user_deleted');
      changes.upstreamKeys.add(hash);
    }
    await this.audit.record(
      {
        action: 'user.deactivated',
        ...scope,
        target: { type: 'user', id: user.id },
        metadata: { clerk_user_id: clerkUserId, openrouter_key_hash: hash },
      },
      m,
    );
    changes.users.add(user.id);
    return true;
  }

  /** Gives a pending (invited, never signed-in) user with this email the Clerk id. */
  private async claimPending(m: EntityManager, clerkUserId: string, email: string): Promise<void> {
    await m.query(
      `UPDATE users SET clerk_user_id = $1, status = 'active', updated_at = now()
        WHERE clerk_user_id IS NULL AND lower(email) = lower($2)
          AND NOT EXISTS (SELECT 1 FROM users WHERE clerk_user_id = $1)`,
      [clerkUserId, email],
    );
  }
}

function requireClerkUserId(value: unknown): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_]{1,128}$/.test(value)) {
    throw new AppError('invalid_webhook_payload', 'The event names no valid Clerk user id');
  }
  return value;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}
