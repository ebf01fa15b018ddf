/**
 * ClerkAuthenticator around mocked collaborators (Nest testing module, no database): a deactivated user is
 * refused even with a valid token; the first request of an unknown session runs the login hook, later ones
 * only read the snapshot; the active tenant is the one asked for (X-Tenant-ID) among the user's own.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Test } from '@nestjs/testing';
import { AppError } from '#libs/common';
import { AppConfig } from '#libs/config';
import { Transactions, type UnitOfWork } from '#libs/database';
import { InvalidationBus } from '#libs/redis';
import { TenantMappingService, type TenantWithRole } from '#libs/tenants';
import { LoginService, type User, type UserSnapshot, UserSnapshotCache } from '#libs/users';
import { ClerkAuthenticator } from './clerk.authenticator';
import { ClerkTokenVerifier } from './clerk-token.verifier';

const USER_ID = 'u-1';
const personal: TenantWithRole = {
  id: 't-personal',
  name: 'Ada',
  slug: 'ada',
  role: 'owner',
  createdAt: new Date(0),
  clerkOrgId: null,
  personalOwnerId: USER_ID,
};
const team: TenantWithRole = { ...personal, id: 't-team', slug: 'team', role: 'member', personalOwnerId: null };

async function build(status: User['status'], knownSessions: string[] = []) {
  const logins: string[] = [];
  const sessionChecks: string[] = [];
  const snapshot: UserSnapshot = {
    user: { id: USER_ID, clerkUserId: 'user_clerk_1', email: 'ada@example.com', status } as User,
    tenants: [personal, team],
    keyRow: null,
    glmKeyEncrypted: null,
  };
  const moduleRef = await Test.createTestingModule({
    providers: [
      ClerkAuthenticator,
      { provide: Transactions, useValue: { run: (work: (u: UnitOfWork) => unknown) => work({} as UnitOfWork) } },
      { provide: ClerkTokenVerifier, useValue: { verify: async (token: string) => claimsOf(token) } },
      {
        provide: LoginService,
        useValue: {
          isKnownSession: async (sid: string) => (sessionChecks.push(sid), knownSessions.includes(sid)),
          login: async (claims: { sid: string }) => logins.push(claims.sid),
        },
      },
      { provide: UserSnapshotCache, useValue: { get: async () => snapshot } },
      { provide: TenantMappingService, useValue: {} },
      { provide: AppConfig, useValue: { platformAdminUserIds: new Set<string>() } },
      { provide: InvalidationBus, useValue: { publish: async () => undefined } },
    ],
  }).compile();
  return { auth: moduleRef.get(ClerkAuthenticator), logins, sessionChecks };
}

/** The test's tokens are their session id. */
function claimsOf(sid: string) {
  return {
    sub: 'user_clerk_1',
    sid,
    email: 'ada@example.com',
    firstName: null,
    lastName: null,
    imageUrl: null,
    organization: null,
  };
}

describe('ClerkAuthenticator', () => {
  it('refuses a deactivated user with user_deactivated, whatever the session', async () => {
    const { auth } = await build('deactivated', ['sess_known']);
    for (const sid of ['sess_known', 'sess_new'])
      await assert.rejects(
        auth.authenticate(sid, undefined),
        (err: unknown) => err instanceof AppError && err.code === 'user_deactivated',
      );
  });

  it('logs in on the first request of an unknown session, and only reads on the next ones', async () => {
    const { auth, logins, sessionChecks } = await build('active');
    const ctx = await auth.authenticate('sess_new', undefined);
    await auth.authenticate('sess_new', undefined);
    assert.deepEqual(logins, ['sess_new']);
    assert.deepEqual(sessionChecks, ['sess_new']);
    assert.equal(ctx.user?.id, USER_ID);
    assert.equal(ctx.tenant.id, personal.id);
    assert.equal(ctx.role, 'owner');
  });

  it('a known session does not log in again', async () => {
    const { auth, logins } = await build('active', ['sess_known']);
    await auth.authenticate('sess_known', undefined);
    assert.deepEqual(logins, []);
  });

  it("takes the tenant asked for among the user's own, by id or slug; another is a tenant mismatch", async () => {
    const { auth } = await build('active', ['s']);
    assert.equal((await auth.authenticate('s', 'team')).tenant.id, team.id);
    assert.equal((await auth.authenticate('s', 't-team')).role, 'member');
    await assert.rejects(
      auth.authenticate('s', 't-elsewhere'),
      (err: unknown) => err instanceof AppError && err.code === 'tenant_mismatch',
    );
  });
});
