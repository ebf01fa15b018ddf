/**
 * AdminDirectory around a mocked directory read model (Nest testing module, no database): pages read one row more
 * than asked to tell whether a next page exists, a cursor resumes after its row, a bad cursor is refused before any
 * read, and a user is named by id, Clerk id or email (and not found when an email names several).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Test } from '@nestjs/testing';
import { AppError, encodeKeyset, KeysetPosition } from '#libs/common';
import { AdminDirectory } from './admin-directory.service';
import {
  DirectoryMembershipRow,
  DirectoryTenantRow,
  DirectoryUserFilter,
  DirectoryUserRef,
  DirectoryUserRow,
  PlatformDirectoryRepository,
} from './read-model/platform-directory.repository';

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const at = (n: number) => `2026-01-01T00:00:${String(n).padStart(2, '0')}.000000Z`;

const tenantRow = (n: number): DirectoryTenantRow => ({
  id: uuid(n),
  name: `Tenant ${n}`,
  slug: `tenant-${n}`,
  clerk_org_id: null,
  personal_owner_id: null,
  members: '2',
  api_keys_active: '1',
  created_at: new Date(at(n)),
  updated_at: new Date(at(n)),
  cursor_at: at(n),
});

const userRow = (n: number, key?: Partial<DirectoryUserRow>): DirectoryUserRow => ({
  id: uuid(100 + n),
  clerk_user_id: `user_${n}`,
  email: `u${n}@example.com`,
  first_name: null,
  last_name: null,
  status: 'active',
  last_login_at: null,
  login_count: 0,
  created_at: new Date(at(n)),
  updated_at: new Date(at(n)),
  cursor_at: at(n),
  key_status: null,
  key_label: null,
  key_hash: null,
  key_limit: null,
  key_auto_renewed: null,
  key_renewal_count: null,
  key_last_renewal_at: null,
  key_last_error_code: null,
  key_created_at: null,
  ...key,
});

async function build(data: {
  tenants?: DirectoryTenantRow[];
  users?: DirectoryUserRow[];
  memberships?: DirectoryMembershipRow[];
}) {
  const calls: unknown[][] = [];
  const repository = {
    tenantsPage: async (after: KeysetPosition | null, take: number) => {
      calls.push(['tenantsPage', after, take]);
      return (data.tenants ?? []).slice(0, take);
    },
    tenant: async (by: { id: string } | { slug: string }) => {
      calls.push(['tenant', by]);
      return data.tenants?.[0] ?? null;
    },
    usersPage: async (filter: DirectoryUserFilter, after: KeysetPosition | null, take: number) => {
      calls.push(['usersPage', filter, after, take]);
      return (data.users ?? []).slice(0, take);
    },
    usersNamed: async (ref: DirectoryUserRef) => {
      calls.push(['usersNamed', ref]);
      return data.users ?? [];
    },
    tenantsOfUsers: async (ids: string[]) => {
      calls.push(['tenantsOfUsers', ids]);
      return data.memberships ?? [];
    },
  };
  const moduleRef = await Test.createTestingModule({
    providers: [AdminDirectory, { provide: PlatformDirectoryRepository, useValue: repository }],
  }).compile();
  return { directory: moduleRef.get(AdminDirectory), calls };
}

describe('AdminDirectory: pages', () => {
  it('reads one row more than the limit; the next cursor points after the last row shown', async () => {
    const { directory, calls } = await build({ tenants: [tenantRow(3), tenantRow(2), tenantRow(1)] });
    const page = await directory.tenants({ limit: 2 });
    assert.deepEqual(calls, [['tenantsPage', null, 3]]);
    assert.deepEqual(
      page.data.map((t) => t.slug),
      ['tenant-3', 'tenant-2'],
    );
    assert.equal(page.next_cursor, encodeKeyset({ at: at(2), id: uuid(2) }));
    assert.equal(page.data[0].members, 2);
    assert.equal(page.data[0].api_keys_active, 1);
  });

  it('the last page has no next cursor; a cursor is passed on as the position to resume after', async () => {
    const { directory, calls } = await build({ tenants: [tenantRow(1)] });
    const cursor = encodeKeyset({ at: at(2), id: uuid(2) });
    const page = await directory.tenants({ limit: 2, cursor });
    assert.deepEqual(calls, [['tenantsPage', { at: at(2), id: uuid(2) }, 3]]);
    assert.equal(page.next_cursor, null);
  });

  it('refuses a malformed cursor before reading anything', async () => {
    const { directory, calls } = await build({});
    await assert.rejects(
      directory.users({ cursor: 'bm90LWEtY3Vyc29y' }),
      (err: AppError) => err instanceof AppError && err.code === 'invalid_cursor',
    );
    assert.deepEqual(calls, []);
  });

  it('passes the email and tenant filters, and attaches each user its own tenants', async () => {
    const { directory, calls } = await build({
      users: [userRow(2), userRow(1)],
      memberships: [
        { user_id: uuid(101), id: uuid(9), name: 'Nine', slug: 'nine', role: 'owner' },
        { user_id: uuid(102), id: uuid(8), name: 'Eight', slug: 'eight', role: 'member' },
      ],
    });
    const page = await directory.users({ email: 'U2@example.com', tenantId: uuid(8) });
    assert.deepEqual(calls[0], ['usersPage', { email: 'U2@example.com', tenantId: uuid(8) }, null, 51]);
    assert.deepEqual(calls[1], ['tenantsOfUsers', [uuid(102), uuid(101)]]);
    assert.deepEqual(
      page.data.map((u) => u.tenants.map((t) => `${t.slug}:${t.role}`)),
      [['eight:member'], ['nine:owner']],
    );
  });

  it('shows a key state without the key, and no key as null', async () => {
    const { directory } = await build({
      users: [userRow(1, { key_status: 'active', key_hash: 'h1', key_limit: '15.5000', key_renewal_count: null })],
    });
    const [user] = (await directory.users()).data;
    assert.equal(user.openrouter_key?.limit, 15.5);
    assert.equal(user.openrouter_key?.renewal_count, 0);
    assert.equal(user.openrouter_key?.hash, 'h1');
    const { directory: other } = await build({ users: [userRow(2)] });
    assert.equal((await other.users()).data[0].openrouter_key, null);
  });
});

describe('AdminDirectory: one tenant or user', () => {
  it('names a tenant by id when it is a uuid, else by slug', async () => {
    const { directory, calls } = await build({ tenants: [tenantRow(1)] });
    await directory.tenant(uuid(1));
    await directory.tenant('tenant-1');
    assert.deepEqual(calls, [
      ['tenant', { id: uuid(1) }],
      ['tenant', { slug: 'tenant-1' }],
    ]);
  });

  it('names a user by id, Clerk id or email; anything else is not found without a read', async () => {
    const { directory, calls } = await build({ users: [userRow(1)] });
    assert.equal((await directory.user(uuid(101)))?.id, uuid(101));
    await directory.user('user_1');
    await directory.user('u1@example.com');
    assert.equal(await directory.user('someone'), null);
    assert.deepEqual(
      calls.filter((c) => c[0] === 'usersNamed').map((c) => c[1]),
      [{ id: uuid(101) }, { clerkUserId: 'user_1' }, { email: 'u1@example.com' }],
    );
  });

  it('an email that several users share names none of them', async () => {
    const { directory, calls } = await build({ users: [userRow(1), userRow(2)] });
    assert.equal(await directory.user('shared@example.com'), null);
    assert.ok(!calls.some((c) => c[0] === 'tenantsOfUsers'));
  });
});
