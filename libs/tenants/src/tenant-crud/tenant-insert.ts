import { randomBytes } from 'node:crypto';
import { AppError, isUuid } from '#libs/common';
import type { UnitOfWork } from '#libs/database';
import type { InsertedTenant, TenantRepository, TenantValues } from '../tenant.repository';

export type { InsertedTenant, TenantValues } from '../tenant.repository';

const ATTEMPTS = 6;

/**
 * The one way a tenant row is inserted (API, command line, login, Clerk webhook). Never aborts the
 * transaction: `ON CONFLICT DO NOTHING` on every unique index. A taken slug gets a random suffix
 * (or is a 409 `slug_taken` when `explicit`), and so does a slug that looks like a tenant id (ids and
 * slugs share `X-Tenant-ID`). When the row's identity (organization, personal owner) was inserted
 * concurrently, `existing` finds it and it is returned instead.
 */
export async function insertTenant(
  tenants: TenantRepository,
  uow: UnitOfWork,
  values: TenantValues,
  opts: { explicit?: boolean; existing?: () => Promise<InsertedTenant | null> } = {},
): Promise<InsertedTenant> {
  const base = values.slug;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const found = await opts.existing?.();
    if (found) return found;
    const slug = attempt === 0 && !isUuid(base) ? base : `${base.slice(0, 41)}-${randomBytes(3).toString('hex')}`;
    const inserted = await tenants.insertUnlessTaken(uow, values, slug);
    if (inserted) return inserted;
    if (opts.explicit && !(await opts.existing?.()))
      throw new AppError('slug_taken', `The slug "${base}" is already in use`);
  }
  const found = await opts.existing?.();
  if (found) return found;
  throw new Error('Could not find a free slug');
}
