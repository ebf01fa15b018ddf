import type { EntityManager } from 'typeorm';
import { AppError, Errors } from '#libs/common';
import type { MemberRepository } from '#libs/tenants';

/**
 * Who a new key acts as. A key acts as the user who creates it: a signed-in creator may omit `user_id`
 * or give their own id, anything else is a 403 (nobody mints a key that spends another person's
 * OpenRouter credit). Only an operator (the command line, no creator) names the user.
 */
export function keyUserFor(creatorId: string | null, requested: string | null | undefined): string {
  if (creatorId !== null) {
    if (requested !== undefined && requested !== null && requested !== creatorId) {
      throw Errors.forbidden('An API key acts as the user who creates it: user_id must be omitted or your own id');
    }
    return creatorId;
  }
  if (!requested) throw new AppError('validation_failed', 'user_id is required', { fields: ['user_id'] });
  return requested;
}

/** A key acts as a member of its tenant who has signed in, never as an outsider or a pending user. */
export async function assertSignedInMember(
  members: MemberRepository,
  m: EntityManager,
  tenantId: string,
  userId: string,
): Promise<void> {
  const member = await members.find(tenantId, userId, m);
  if (!member) throw new AppError('user_not_member', 'user_id must be a member of the tenant', { fields: ['user_id'] });
  if (member.status !== 'active')
    throw new AppError(
      'user_not_signed_in',
      member.status === 'pending'
        ? 'user_id names a user who has never signed in; a key can only act as a user who has'
        : 'user_id names a deactivated user',
      { fields: ['user_id'] },
    );
}

export function assertFuture(expiresAt: Date | null | undefined, now = Date.now()): void {
  if (expiresAt && expiresAt.getTime() <= now) {
    throw new AppError('invalid_expires_at', 'expires_at must be in the future', { fields: ['expires_at'] });
  }
}

export const keyRevoked = () => new AppError('api_key_already_revoked', 'This API key is revoked');
