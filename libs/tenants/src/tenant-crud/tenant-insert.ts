import { randomBytes } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { AppError, isUuid } from '#libs/common';

export interface InsertedTenant {
  id: string;
  name: string;
  slug: string;
  createdAt: Date;
  personalOwnerId: string | null;
}

export interface TenantValues {
  name: string;
  /** The wanted slug, or the base a free one is derived from. */
  slug: string;
  clerkOrgId?: string;
  personalOwnerId?: string;
}

const ATTEMPTS = 6;

/**
 * The one way a tenant row is inserted (API, command line, login, Clerk webhook). Never aborts the
 * transaction: `ON CONFLICT DO NOTHING` on every unique index. A taken slug gets a random suffix
 * (or is a 409 `slug_taken` when `explicit`), and so does a slug that looks like a tenant id (ids and
 * slugs share `X-Tenant-ID`). When the row's identity (organization, personal owner) was inserted
 * concurrently, `existing` finds it and it is returned instead.
 */
export async function insertTenant(
  m: EntityManager,
  values: TenantValues,
  opts: { explicit?: boolean; existing?: () => Promise<InsertedTenant | null> } = {},
): Promise<InsertedTenant> {
  const base = values.slug;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const found = await opts.existing?.();
    if (found) return found;
    const slug = attempt === 0 && !isUuid(base) ? base : `${base.slice(0, 41)}-${randomBytes(3).toString('hex')}`;
    const rows: InsertedTenant[] = await m.query(
      `INSERT INTO tenants (name, slug, clerk_org_id, personal_owner_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING
       RETURNING id, name, slug, created_at AS "createdAt", personal_owner_id AS "personalOwnerId"`,
      [values.name, slug, values.clerkOrgId ?? null, values.personalOwnerId ?? null],
    );
    if (rows[0]) return rows[0];
    if (opts.explicit && !(await opts.existing?.()))
      throw new AppError('slug_taken', `The slug "${base}" is already in use`);
  }
  const found = await opts.existing?.();
  if (found) return found;
  throw new Error('Could not find a free slug');
}
