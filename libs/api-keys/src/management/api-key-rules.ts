import { AppError, Errors } from '#libs/common';
import type { MembershipRepository } from '#libs/tenants';
import type { QuotaPeriod } from '../api-key.entity';

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
  members: MembershipRepository,
  tenantId: string,
  userId: string,
): Promise<void> {
  const member = await members.forTenant(tenantId).find(userId);
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

/** The key as the strength rules see it. */
export interface KeyStrength {
  userId: string | null;
  scopes: readonly string[];
  isActive: boolean;
  rateLimitPerMinute: number;
  tokenQuota: number | null;
  quotaPeriod: QuotaPeriod | null;
  budgetUsd: number | null;
  budgetPeriod: QuotaPeriod;
  expiresAt: Date | null;
}

/**
 * How much a period gives for one limit: a day's limit every day gives the most, one for the key's whole
 * life the least. A change to a shorter period counts as raising the limit.
 */
const PERIOD_GIVES: Record<QuotaPeriod, number> = { total: 0, month: 1, day: 2 };

/** Whether (limit, period) → (limit', period') gives more: removed (null), raised, or a shorter period. */
function raises(
  from: { limit: number | null; period: QuotaPeriod | null },
  to: { limit: number | null; period: QuotaPeriod | null },
): boolean {
  if (from.limit === null) return false; // unlimited before: nothing can give more
  if (to.limit === null) return true;
  if (to.limit > from.limit) return true;
  return PERIOD_GIVES[to.period ?? 'total'] > PERIOD_GIVES[from.period ?? 'total'];
}

/**
 * What a change from `key` to `next` (the full settings after the change) makes stronger, named as in the
 * API: re-enabling, widening scopes, raising or removing a limit (rate, token quota, budget), extending or
 * removing the expiry. Renaming, disabling, narrowing, lowering and shortening make nothing stronger.
 */
export function strengthenedFields(key: KeyStrength, next: KeyStrength): string[] {
  const fields: string[] = [];
  if (next.isActive && !key.isActive) fields.push('is_active');
  if (next.scopes.some((s) => !key.scopes.includes(s))) fields.push('scopes');
  if (next.rateLimitPerMinute > key.rateLimitPerMinute) fields.push('rate_limit_per_minute');
  if (raises({ limit: key.tokenQuota, period: key.quotaPeriod }, { limit: next.tokenQuota, period: next.quotaPeriod }))
    fields.push('token_quota');
  if (raises({ limit: key.budgetUsd, period: key.budgetPeriod }, { limit: next.budgetUsd, period: next.budgetPeriod }))
    fields.push('budget_usd');
  if (key.expiresAt !== null && (next.expiresAt === null || next.expiresAt.getTime() > key.expiresAt.getTime()))
    fields.push('expires_at');
  return fields;
}

/**
 * Every plaintext of a key acts as, and spends for, the key's user: only that user makes the key stronger
 * (or rotates it, which mints a new plaintext). Owners and admins may weaken any key of their tenant.
 * `actingUserId` is the signed-in user, or the user the calling API key acts as.
 */
export function assertMayStrengthen(key: KeyStrength, next: KeyStrength, actingUserId: string | null): void {
  const fields = strengthenedFields(key, next);
  if (fields.length === 0 || (key.userId !== null && actingUserId === key.userId)) return;
  throw Errors.forbidden(
    `Only the key's own user may make it stronger (${fields.join(', ')}); others may disable, revoke, narrow or lower it`,
  );
}

export function assertMayRotate(key: { userId: string | null }, actingUserId: string | null): void {
  if (key.userId !== null && actingUserId === key.userId) return;
  throw Errors.forbidden("Only the key's own user may rotate it: a new plaintext acts as, and spends for, that user");
}
