/**
 * ClerkWebhookProcessor's rules around mocked collaborators (Nest testing module, no database): a delivery is
 * applied once per svix-id, an unknown event type is recorded and ignored, and caches, capabilities' follow-up work
 * and upstream key deletions happen only after a commit that changed something (a failing step there is logged,
 * never undoes the delivery). The handlers run in the delivery's unit of work.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Test } from '@nestjs/testing';
import { ApiKeyRevoker } from '#libs/api-keys';
import type { ClerkEvent } from '#libs/clerk';
import { Transactions, type UnitOfWork } from '#libs/database';
import { KeyDeletionQueue } from '#libs/openrouter';
import { InvalidationBus } from '#libs/redis';
import type { AppliedChanges } from './clerk-event.types';
import { ClerkOrganizationSync } from './clerk-organization.sync';
import { ClerkUserSync } from './clerk-user.sync';
import { ClerkWebhookDeliveryRepository } from './clerk-webhook-delivery.repository';
import { ClerkWebhookProcessor } from './clerk-webhook.processor';

type Apply = (uow: UnitOfWork, changes: AppliedChanges) => Promise<boolean>;

async function build(apply: Apply) {
  const log: string[] = [];
  const claimed = new Set<string>();
  const uow = {} as UnitOfWork;
  const transactions = {
    run: async (work: (u: UnitOfWork) => Promise<unknown>) => {
      const result = await work(uow);
      log.push('commit');
      return result;
    },
  };
  const deliveries = {
    claim: async (u: UnitOfWork, svixId: string, type: string) => {
      assert.equal(u, uow);
      log.push(`claim ${svixId} ${type}`);
      if (claimed.has(svixId)) return false;
      claimed.add(svixId);
      return true;
    },
  };
  const orgs = {
    upsert: async (u: UnitOfWork, _d: unknown, _s: unknown, c: AppliedChanges) => {
      assert.equal(u, uow, 'the handler runs in the delivery’s unit of work');
      return apply(u, c);
    },
  };
  const users = {
    deactivate: async (
      u: UnitOfWork,
      _id: unknown,
      _s: unknown,
      c: AppliedChanges,
      revoke: (u: UnitOfWork, userId: string) => Promise<() => void>,
    ) => {
      c.afterCommit.push(await revoke(u, 'u-gone'));
      c.users.add('u-gone');
      return true;
    },
  };
  const apiKeys = {
    revokeAllOfUser: async (u: UnitOfWork, userId: string) => {
      assert.equal(u, uow);
      log.push(`revoke ${userId}`);
      return () => log.push(`keys dropped ${userId}`);
    },
  };
  const moduleRef = await Test.createTestingModule({
    providers: [
      ClerkWebhookProcessor,
      { provide: Transactions, useValue: transactions },
      { provide: ClerkWebhookDeliveryRepository, useValue: deliveries },
      { provide: ClerkUserSync, useValue: users },
      { provide: ClerkOrganizationSync, useValue: orgs },
      { provide: KeyDeletionQueue, useValue: { deleteNow: async (hash: string) => log.push(`delete key ${hash}`) } },
      {
        provide: InvalidationBus,
        useValue: { publish: async (t: string, id: string) => log.push(`publish ${t} ${id}`) },
      },
      { provide: ApiKeyRevoker, useValue: apiKeys },
    ],
  }).compile();
  return { processor: moduleRef.get(ClerkWebhookProcessor), log };
}

const orgUpdated: ClerkEvent = { type: 'organization.updated', data: { id: 'org_1' } };

describe('ClerkWebhookProcessor', () => {
  it('applies a change, then after the commit publishes, runs follow-up work and deletes upstream keys', async () => {
    const { processor, log } = await build(async (_u, c) => {
      c.tenants.add('t-1');
      c.users.add('u-1');
      c.upstreamKeys.add('hash-1');
      c.afterCommit.push(() => {
        log.push('follow-up');
      });
      return true;
    });
    assert.equal(await processor.process('msg_1', orgUpdated, 'req-1'), 'applied');
    assert.deepEqual(log, [
      'claim msg_1 organization.updated',
      'commit',
      'publish user u-1',
      'publish tenant t-1',
      'follow-up',
      'delete key hash-1',
    ]);
  });

  it('a redelivery of the same svix-id is a duplicate: no handler, nothing after', async () => {
    let calls = 0;
    const { processor, log } = await build(async () => {
      calls++;
      return true;
    });
    await processor.process('msg_1', orgUpdated, null);
    log.length = 0;
    assert.equal(await processor.process('msg_1', orgUpdated, null), 'duplicate');
    assert.equal(calls, 1);
    assert.deepEqual(log, ['claim msg_1 organization.updated', 'commit']);
  });

  it('an event type it does not handle is recorded and ignored', async () => {
    const { processor, log } = await build(async () => true);
    assert.equal(await processor.process('msg_2', { type: 'session.created', data: {} }, null), 'ignored');
    assert.deepEqual(log, ['claim msg_2 session.created', 'commit']);
  });

  it('a handler that changed nothing is unchanged, and nothing is published', async () => {
    const { processor, log } = await build(async (_u, c) => {
      c.tenants.add('t-1');
      return false;
    });
    assert.equal(await processor.process('msg_3', orgUpdated, null), 'unchanged');
    assert.deepEqual(log, ['claim msg_3 organization.updated', 'commit']);
  });

  it('a failing handler fails the delivery (no commit, nothing after), so that Svix retries it', async () => {
    const { processor, log } = await build(async (_u, c) => {
      c.tenants.add('t-1');
      throw new Error('database down');
    });
    await assert.rejects(processor.process('msg_4', orgUpdated, null), /database down/);
    assert.deepEqual(log, ['claim msg_4 organization.updated']);
  });

  it('a failing follow-up step is logged, and the rest still runs', async () => {
    const { processor, log } = await build(async (_u, c) => {
      c.afterCommit.push(() => {
        throw new Error('redis down');
      });
      c.upstreamKeys.add('hash-2');
      return true;
    });
    assert.equal(await processor.process('msg_5', orgUpdated, null), 'applied');
    assert.equal(log.at(-1), 'delete key hash-2');
  });

  it('user.deleted revokes the user’s API keys in the delivery’s unit of work, their caches dropped after it', async () => {
    const { processor, log } = await build(async () => true);
    assert.equal(await processor.process('msg_6', { type: 'user.deleted', data: { id: 'user_1' } }, null), 'applied');
    assert.deepEqual(log, [
      'claim msg_6 user.deleted',
      'revoke u-gone',
      'commit',
      'publish user u-gone',
      'keys dropped u-gone',
    ]);
  });
});
