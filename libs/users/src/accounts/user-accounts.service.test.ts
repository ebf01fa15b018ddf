/**
 * UserAccounts around a mocked UserRepository (Nest testing module, no database): a pending user invited by
 * the email is claimed before the upsert (so their memberships carry over), never without an email; a known
 * user is left as it is by ensureKnown; every call runs in the caller's unit of work.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Test } from '@nestjs/testing';
import type { UnitOfWork } from '#libs/database';
import { UserRepository, type ClerkProfileFields, type UserRef } from '../user.repository';
import { UserAccounts } from './user-accounts.service';

const uow = { caller: true } as unknown as UnitOfWork;
const profile = (email: string | null): ClerkProfileFields => ({
  email,
  firstName: 'Ada',
  lastName: null,
  imageUrl: null,
});

async function build(known: UserRef | null) {
  const calls: string[] = [];
  const inOtherUow: string[] = [];
  const note = (u: UnitOfWork, call: string) => {
    calls.push(call);
    if (u !== uow) inOtherUow.push(call);
  };
  let existing = known;
  const users = {
    claimPending: async (u: UnitOfWork, sub: string, email: string) => note(u, `claim ${sub} ${email}`),
    upsertFromClerk: async (u: UnitOfWork, sub: string, _p: ClerkProfileFields, complete: boolean) => {
      note(u, `upsert ${sub} ${complete ? 'complete' : 'partial'}`);
      return 'u-1';
    },
    insertIfAbsent: async (u: UnitOfWork, sub: string) => {
      note(u, `insert ${sub}`);
      existing = { id: 'u-new', status: 'active' };
    },
    lockByClerkId: async (u: UnitOfWork, sub: string) => {
      note(u, `lock ${sub}`);
      return existing;
    },
    recordLogin: async (u: UnitOfWork, id: string) => note(u, `login ${id}`),
    deactivate: async (u: UnitOfWork, id: string) => note(u, `deactivate ${id}`),
  };
  const moduleRef = await Test.createTestingModule({
    providers: [UserAccounts, { provide: UserRepository, useValue: users }],
  }).compile();
  return { accounts: moduleRef.get(UserAccounts), calls, inOtherUow };
}

describe('UserAccounts', () => {
  it('upsertFromClerk claims the pending user of the email first, then upserts', async () => {
    const { accounts, calls, inOtherUow } = await build(null);
    assert.equal(await accounts.upsertFromClerk(uow, 'user_1', profile('ada@example.test'), true), 'u-1');
    assert.deepEqual(calls, ['claim user_1 ada@example.test', 'upsert user_1 complete']);
    assert.deepEqual(inOtherUow, []);
  });

  it('without an email nothing is claimed', async () => {
    const { accounts, calls } = await build(null);
    await accounts.upsertFromClerk(uow, 'user_1', profile(null), false);
    assert.deepEqual(calls, ['upsert user_1 partial']);
  });

  it('ensureKnown leaves a known user as it is', async () => {
    const { accounts, calls } = await build({ id: 'u-known', status: 'deactivated' });
    assert.deepEqual(await accounts.ensureKnown(uow, 'user_1', profile('ada@example.test')), {
      id: 'u-known',
      status: 'deactivated',
    });
    assert.deepEqual(calls, ['lock user_1']);
  });

  it('ensureKnown claims or creates an unknown user, and reads it back locked', async () => {
    const { accounts, calls, inOtherUow } = await build(null);
    assert.deepEqual(await accounts.ensureKnown(uow, 'user_2', profile('bo@example.test')), {
      id: 'u-new',
      status: 'active',
    });
    assert.deepEqual(calls, ['lock user_2', 'claim user_2 bo@example.test', 'insert user_2', 'lock user_2']);
    assert.deepEqual(inOtherUow, []);
  });
});
