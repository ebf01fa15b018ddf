import type { EntityManager } from 'typeorm';
import { AppError } from '#libs/common';
import { requireTenantId } from '#libs/tenants';

/** A key acts as a member of its tenant, never as an outsider. */
export async function assertMember(m: EntityManager, tenantId: string, userId: string): Promise<void> {
  const rows = await m.query(`SELECT 1 FROM memberships WHERE tenant_id = $1 AND user_id = $2`, [
    requireTenantId(tenantId),
    userId,
  ]);
  if (rows.length === 0)
    throw new AppError('user_not_member', 'user_id must be a member of the tenant', { fields: ['user_id'] });
}

export function assertFuture(expiresAt: Date | null | undefined, now = Date.now()): void {
  if (expiresAt && expiresAt.getTime() <= now) {
    throw new AppError('invalid_expires_at', 'expires_at must be in the future', { fields: ['expires_at'] });
  }
}

export const keyRevoked = () => new AppError('api_key_already_revoked', 'This API key is revoked');
