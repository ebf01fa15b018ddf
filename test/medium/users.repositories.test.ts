/**
 * The users lib's repositories on a real, migrated database: users (Clerk upsert and claim of a pending user,
 * the row lock, login counters, pending invitees converging on one row), user_sessions (a session is new once)
 * and user_provider_keys (upsert, delete, the stale-sealed walk and the conditional replace).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { UnitOfWork } from '#libs/database';
import { UserAccounts } from '../../libs/users/src/accounts/user-accounts.service';
import { PendingInvitees } from '../../libs/users/src/invitees/pending-invitees';
import { UserProviderKeyRepository } from '../../libs/users/src/user-provider-key.repository';
import { UserSessionRepository } from '../../libs/users/src/user-session.repository';
import { UserRepository, type ClerkProfileFields } from '../../libs/users/src/user.repository';
import { openMediumDatabase, type MediumDatabase } from '../support/medium-database';

const profile = (over: Partial<ClerkProfileFields> = {}): ClerkProfileFields => ({
  email: `${randomUUID().slice(0, 8)}@example.test`,
  firstName: 'Ada',
  lastName: 'Lovelace',
  imageUrl: null,
  ...over,
});
const clerkId = () => `user_${randomUUID().replace(/-/g, '').slice(0, 16)}`;

describe('users lib repositories', () => {
  let db: MediumDatabase;
  let users: UserRepository;
  let sessions: UserSessionRepository;
  let providerKeys: UserProviderKeyRepository;
  let accounts: UserAccounts;
  let invitees: PendingInvitees;
  before(async () => {
    db = await openMediumDatabase();
    users = new UserRepository(db.dataSource);
    sessions = new UserSessionRepository(db.dataSource);
    providerKeys = new UserProviderKeyRepository(db.dataSource);
    accounts = new UserAccounts(users);
    invitees = new PendingInvitees(users);
  });
  after(() => db?.close());

  const tx = <T>(work: (uow: UnitOfWork) => Promise<T>): Promise<T> => db.transactions.run(work);

  describe('UserRepository', () => {
    it('upsertFromClerk creates a user, then updates it: absent fields keep theirs unless the profile is complete', async () => {
      const sub = clerkId();
      const p = profile();
      const id = await tx((uow) => users.upsertFromClerk(uow, sub, p, false));
      const again = await tx((uow) =>
        users.upsertFromClerk(uow, sub, { email: null, firstName: null, lastName: 'L', imageUrl: null }, false),
      );
      assert.equal(again, id);
      let user = await users.get(id);
      assert.equal(user.clerkUserId, sub);
      assert.equal(user.email, p.email);
      assert.equal(user.firstName, 'Ada');
      assert.equal(user.lastName, 'L');
      await tx((uow) => users.upsertFromClerk(uow, sub, { ...p, firstName: null }, true));
      user = await users.get(id);
      assert.equal(user.firstName, null);
      assert.equal(user.email, p.email);
    });

    it('insertIfAbsent leaves an existing user as it is; lockByClerkId finds it, null for an unknown id', async () => {
      const sub = clerkId();
      await tx((uow) => users.insertIfAbsent(uow, sub, profile({ firstName: 'First' })));
      await tx((uow) => users.insertIfAbsent(uow, sub, profile({ firstName: 'Second' })));
      const ref = await tx((uow) => users.lockByClerkId(uow, sub));
      assert.ok(ref);
      assert.equal(ref.status, 'active');
      assert.equal((await users.get(ref.id)).firstName, 'First');
      assert.equal(await tx((uow) => users.lockByClerkId(uow, clerkId())), null);
    });

    it('lockByClerkId holds the row until the transaction ends', async () => {
      const sub = clerkId();
      const id = await tx((uow) => users.upsertFromClerk(uow, sub, profile(), false));
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let locked!: () => void;
      const isLocked = new Promise<void>((resolve) => (locked = resolve));
      const holder = tx(async (uow) => {
        await users.lockByClerkId(uow, sub);
        locked();
        await held;
        await users.deactivate(uow, id);
      });
      await isLocked;
      const order: string[] = [];
      const waiter = tx(async (uow) => {
        const ref = await users.lockByClerkId(uow, sub);
        order.push(`waiter saw ${ref?.status}`);
      });
      order.push('holder releases');
      release();
      await Promise.all([holder, waiter]);
      assert.deepEqual(order, ['holder releases', 'waiter saw deactivated']);
    });

    it('recordLogin moves the counters; deactivate sets the status', async () => {
      const id = await tx((uow) => users.upsertFromClerk(uow, clerkId(), profile(), false));
      await tx((uow) => users.recordLogin(uow, id));
      await tx((uow) => users.recordLogin(uow, id));
      const user = await users.get(id);
      assert.equal(user.loginCount, 2);
      assert.ok(user.lastLoginAt instanceof Date);
      await tx((uow) => users.deactivate(uow, id));
      assert.equal((await users.get(id)).status, 'deactivated');
    });

    it('findByClerkId reads the whole user, null when unknown', async () => {
      const sub = clerkId();
      const id = await tx((uow) => users.upsertFromClerk(uow, sub, profile(), false));
      assert.equal((await users.findByClerkId(sub))?.id, id);
      assert.equal(await users.findByClerkId(clerkId()), null);
    });
  });

  describe('UserAccounts over the repository: claiming a pending user', () => {
    it('the first sign-in with an invited email takes over the pending user (same id, now active)', async () => {
      const email = `${randomUUID().slice(0, 8)}@example.test`;
      const invited = await tx((uow) => invitees.byEmail(uow, email.toUpperCase()));
      assert.equal(invited.status, 'pending');
      const sub = clerkId();
      const id = await tx((uow) => accounts.upsertFromClerk(uow, sub, profile({ email }), false));
      assert.equal(id, invited.id);
      const user = await users.get(id);
      assert.equal(user.status, 'active');
      assert.equal(user.clerkUserId, sub);
    });

    it('ensureKnown leaves a known user as it is and creates an unknown one', async () => {
      const sub = clerkId();
      const created = await tx((uow) => accounts.ensureKnown(uow, sub, profile({ firstName: 'One' })));
      const known = await tx((uow) => accounts.ensureKnown(uow, sub, profile({ firstName: 'Two' })));
      assert.ok(created);
      assert.equal(known?.id, created.id);
      assert.equal((await users.get(created.id)).firstName, 'One');
    });
  });

  describe('invitees (PendingInvitees over UserRepository)', () => {
    it('an unknown email becomes one pending user, even for concurrent invitations', async () => {
      const email = `${randomUUID().slice(0, 8)}@example.test`;
      const results = await Promise.all(
        [email, ` ${email.toUpperCase()} `, email].map((e) => tx((uow) => invitees.byEmail(uow, e))),
      );
      assert.equal(new Set(results.map((r) => r.id)).size, 1);
      assert.equal(results.filter((r) => r.created).length, 1);
      const rows: unknown[] = await db.dataSource.query(`SELECT 1 FROM users WHERE lower(email) = $1`, [email]);
      assert.equal(rows.length, 1);
    });

    it('prefers a signed-in user to a pending one for the same email', async () => {
      const email = `${randomUUID().slice(0, 8)}@example.test`;
      const pendingId = await tx((uow) => users.insertPending(uow, email));
      assert.ok(pendingId);
      assert.equal(await tx((uow) => users.insertPending(uow, email)), null);
      const signedIn = await tx((uow) =>
        users.upsertFromClerk(uow, clerkId(), profile({ email: 'other@x.test' }), false),
      );
      await db.dataSource.query(`UPDATE users SET email = $1 WHERE id = $2`, [email.toUpperCase(), signedIn]);
      assert.equal((await users.inviteeByEmail(email))?.id, signedIn);
    });

    it('byId finds a user, refuses an unknown id (404) and a deactivated user', async () => {
      const id = await tx((uow) => users.upsertFromClerk(uow, clerkId(), profile(), false));
      assert.deepEqual(await tx((uow) => invitees.byId(uow, id)), { id, status: 'active', created: false });
      await assert.rejects(
        tx((uow) => invitees.byId(uow, randomUUID())),
        { code: 'not_found' },
      );
      await tx((uow) => users.deactivate(uow, id));
      await assert.rejects(
        tx((uow) => invitees.byId(uow, id)),
        { code: 'invitee_deactivated' },
      );
    });
  });

  describe('UserSessionRepository', () => {
    it('a session is new once; isKnown sees it after the commit, not after a rollback', async () => {
      const userId = await tx((uow) => users.upsertFromClerk(uow, clerkId(), profile(), false));
      const sid = `sess_${randomUUID()}`;
      await assert.rejects(
        tx(async (uow) => {
          assert.equal(await sessions.insert(uow, sid, userId), true);
          throw new Error('rolled back');
        }),
        /rolled back/,
      );
      assert.equal(await sessions.isKnown(sid), false);
      assert.equal(await tx((uow) => sessions.insert(uow, sid, userId)), true);
      assert.equal(await tx((uow) => sessions.insert(uow, sid, userId)), false);
      assert.equal(await sessions.isKnown(sid), true);
    });
  });

  describe('UserProviderKeyRepository', () => {
    it('upserts, reads the GLM key, deletes', async () => {
      const userId = await tx((uow) => users.upsertFromClerk(uow, clerkId(), profile(), false));
      assert.equal(await providerKeys.sealedGlmKeyOf(userId), null);
      await providerKeys.upsert(userId, 'glm', 'v1:first');
      await providerKeys.upsert(userId, 'glm', 'v1:second');
      assert.equal(await providerKeys.sealedGlmKeyOf(userId), 'v1:second');
      await providerKeys.delete(userId, 'glm');
      assert.equal(await providerKeys.sealedGlmKeyOf(userId), null);
    });

    it('walks the values not sealed with the current key in cursor order, and replaces only what was read', async () => {
      const a = await tx((uow) => users.upsertFromClerk(uow, clerkId(), profile(), false));
      const b = await tx((uow) => users.upsertFromClerk(uow, clerkId(), profile(), false));
      await providerKeys.upsert(a, 'glm', 'old:a');
      await providerKeys.upsert(b, 'glm', 'old:b');
      const [first, second] = [a, b].sort();
      const page1 = await providerKeys.staleSealed('new:', null, 1);
      assert.deepEqual(page1, [{ userId: first, provider: 'glm', keyEncrypted: `old:${first === a ? 'a' : 'b'}` }]);
      const page2 = await providerKeys.staleSealed('new:', `${first}:glm`, 10);
      assert.deepEqual(
        page2.map((r) => r.userId),
        [second],
      );
      assert.equal(await providerKeys.replaceSealed(first, 'glm', 'not-what-is-stored', 'new:x'), false);
      assert.equal(await providerKeys.replaceSealed(first, 'glm', page1[0].keyEncrypted, 'new:x'), true);
      assert.equal(await providerKeys.sealedGlmKeyOf(first), 'new:x');
      assert.deepEqual(
        (await providerKeys.staleSealed('new:', null, 10)).map((r) => r.userId),
        [second],
      );
    });
  });
});
