/**
 * LoginService's rules around mocked repositories (Nest testing module, no database): the first request of a
 * new session is a login (the user is created or claimed, the login is counted, their personal tenant and
 * OpenRouter key are ensured); later requests of that session count nothing; an organization claim maps its
 * tenant on every login; a token without an email takes the profile from Clerk. UserAccounts is the real one,
 * over a UserRepository mock that keeps users in a map.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Test } from '@nestjs/testing';
import type { DataSource } from 'typeorm';
import { ClerkProfileClient, type ClerkClaims, type ClerkProfile } from '#libs/clerk';
import { Transactions, type UnitOfWork } from '#libs/database';
import { OpenRouterKeyProvisioner } from '#libs/openrouter';
import { InvalidationBus } from '#libs/redis';
import { TenantMappingService } from '#libs/tenants';
import { UserAccounts } from '../accounts/user-accounts.service';
import { LoginService } from './login.service';
import type { User } from '../user.entity';
import { UserSessionRepository } from '../user-session.repository';
import { UserRepository, type ClerkProfileFields } from '../user.repository';

/** Users by id; a pending user (invited by email) has no Clerk id until claimed. */
class MockUsers {
  rows = new Map<string, User>();
  private next = 1;
  async claimPending(_u: UnitOfWork, clerkUserId: string, email: string) {
    const pending = [...this.rows.values()].find((u) => u.clerkUserId === null && u.email === email);
    if (pending && ![...this.rows.values()].some((u) => u.clerkUserId === clerkUserId))
      Object.assign(pending, { clerkUserId, status: 'active' });
  }
  async upsertFromClerk(_u: UnitOfWork, clerkUserId: string, p: ClerkProfileFields) {
    let user = [...this.rows.values()].find((u) => u.clerkUserId === clerkUserId);
    if (!user) {
      user = { id: `u${this.next++}`, clerkUserId, status: 'active', loginCount: 0 } as User;
      this.rows.set(user.id, user);
    }
    Object.assign(user, { email: p.email ?? user.email, firstName: p.firstName ?? user.firstName });
    return user.id;
  }
  async get(id: string) {
    return { ...this.rows.get(id)! };
  }
  async recordLogin(_u: UnitOfWork, id: string) {
    this.rows.get(id)!.loginCount++;
  }
}

class MockSessions {
  known = new Map<string, string>();
  async isKnown(sessionId: string) {
    return this.known.has(sessionId);
  }
  async insert(_u: UnitOfWork, sessionId: string, userId: string) {
    if (this.known.has(sessionId)) return false;
    this.known.set(sessionId, userId);
    return true;
  }
}

const claims = (over: Partial<ClerkClaims> & { sid?: string } = {}): ClerkClaims & { sid: string } => ({
  sub: 'user_clerk_1',
  sid: 'sess_1',
  email: 'ada@example.com',
  firstName: 'Ada',
  lastName: null,
  imageUrl: null,
  organization: null,
  ...over,
});

async function build(clerkProfile: ClerkProfile | null = null) {
  const users = new MockUsers();
  const sessions = new MockSessions();
  const personal: string[] = [];
  const organizations: string[] = [];
  const provisioned: string[] = [];
  const published: string[] = [];
  const fetched: string[] = [];
  // The real Transactions over a stand-in connection: the work gets a unit of work Transactions opened.
  const dataSource = { transaction: async (work: (m: unknown) => unknown) => work({}) } as unknown as DataSource;
  const moduleRef = await Test.createTestingModule({
    providers: [
      LoginService,
      UserAccounts,
      { provide: Transactions, useValue: new Transactions(dataSource) },
      { provide: UserRepository, useValue: users },
      { provide: UserSessionRepository, useValue: sessions },
      {
        provide: TenantMappingService,
        useValue: {
          ensurePersonalTenant: async (_m: unknown, user: User) => personal.push(user.id),
          ensureOrganizationTenant: async (_m: unknown, org: { id: string }) => organizations.push(org.id),
        },
      },
      {
        provide: ClerkProfileClient,
        useValue: { fetch: async (sub: string) => (fetched.push(sub), clerkProfile) },
      },
      {
        provide: OpenRouterKeyProvisioner,
        useValue: { ensureUserOpenRouterKey: async (id: string) => provisioned.push(id) },
      },
      { provide: InvalidationBus, useValue: { publish: async (_t: string, id: string) => published.push(id) } },
    ],
  }).compile();
  return {
    login: moduleRef.get(LoginService),
    users,
    sessions,
    personal,
    organizations,
    provisioned,
    published,
    fetched,
  };
}

describe('LoginService: the first request of a session is a login', () => {
  it('creates the user, counts the login, ensures the personal tenant and the OpenRouter key', async () => {
    const { login, users, sessions, personal, provisioned, published } = await build();
    const { user, firstOfSession } = await login.login(claims());
    assert.equal(firstOfSession, true);
    assert.equal(users.rows.size, 1);
    assert.equal(user.clerkUserId, 'user_clerk_1');
    assert.equal(user.email, 'ada@example.com');
    assert.equal(user.loginCount, 1);
    assert.equal(sessions.known.get('sess_1'), user.id);
    assert.deepEqual(personal, [user.id]);
    assert.deepEqual(provisioned, [user.id]);
    assert.deepEqual(published, [user.id]);
    assert.equal(await login.isKnownSession('sess_1'), true);
    assert.equal(await login.isKnownSession('sess_2'), false);
  });

  it('a later request of the same session counts nothing and provisions nothing', async () => {
    const { login, personal, provisioned } = await build();
    await login.login(claims());
    const again = await login.login(claims());
    assert.equal(again.firstOfSession, false);
    assert.equal(again.user.loginCount, 1);
    assert.equal(personal.length, 1);
    assert.equal(provisioned.length, 1);
  });

  it('a new session of a known user is another login of the same user', async () => {
    const { login, users } = await build();
    const first = await login.login(claims());
    const second = await login.login(claims({ sid: 'sess_2' }));
    assert.equal(second.firstOfSession, true);
    assert.equal(second.user.id, first.user.id);
    assert.equal(second.user.loginCount, 2);
    assert.equal(users.rows.size, 1);
  });

  it('claims the pending user invited by that email instead of creating another', async () => {
    const { login, users } = await build();
    users.rows.set('u-invited', {
      id: 'u-invited',
      clerkUserId: null,
      email: 'ada@example.com',
      status: 'pending',
      loginCount: 0,
    } as User);
    const { user } = await login.login(claims());
    assert.equal(user.id, 'u-invited');
    assert.equal(user.status, 'active');
    assert.equal(users.rows.size, 1);
  });

  it("maps the organization's tenant on every request that carries one", async () => {
    const { login, organizations } = await build();
    const org = { id: 'org_1', slug: 'acme', role: 'org:admin' };
    await login.login(claims({ organization: org }));
    await login.login(claims({ organization: org }));
    assert.deepEqual(organizations, ['org_1', 'org_1']);
  });

  it('asks Clerk for the profile only when the token has no email', async () => {
    const { login, fetched } = await build({ email: 'from-clerk@example.com', firstName: 'Ada' } as ClerkProfile);
    await login.login(claims());
    assert.deepEqual(fetched, []);
    const { user } = await login.login(claims({ sub: 'user_clerk_2', sid: 'sess_9', email: null }));
    assert.deepEqual(fetched, ['user_clerk_2']);
    assert.equal(user.email, 'from-clerk@example.com');
  });
});
