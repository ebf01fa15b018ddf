/**
 * OpenRouterKeyProvisioner around mocked collaborators (Nest testing module, no database, no network):
 * one upstream key however many calls ask at once (one flight in a process, a lease between processes,
 * the row read again under the lease), and a replacement that cannot read the old key's spend creates
 * nothing. The store, client, lease and budgets are plain objects; the service takes the DataSource
 * directly for the write of a new key, so the mock runs the callback with a manager whose `update`
 * writes into the mocked store.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Test } from '@nestjs/testing';
import { getDataSourceToken } from '@nestjs/typeorm';
import { AuditService, SYSTEM_ACTOR } from '#libs/audit';
import { AppError } from '#libs/common';
import { AppConfig } from '#libs/config';
import { DeploymentIdentity } from '#libs/installation';
import { InvalidationBus } from '#libs/redis';
import { OpenRouterClient, OpenRouterError } from '../client';
import type { CreateKeyInput, UpstreamKey } from '../client/openrouter.types';
import { UserBudgets } from '../budget/user-budgets';
import { KeySpendCache } from '../spend/key-spend.cache';
import { KeyDeletionQueue } from './key-deletion.queue';
import { KeyLease } from './key-lease';
import type { OpenRouterKey } from './openrouter-key.entity';
import { keyName, OpenRouterKeyProvisioner, parseKeyName } from './openrouter-key.provisioner';
import { OpenRouterKeyStore } from './openrouter-key.store';
import { KeyReplacementLimit } from './replacement-limit';

const USER = '0b7c4a52-0000-4000-8000-0000000000aa';
const INSTALLATION = 'c0ffee00-0000-4000-8000-000000000001';

/** The key rows of every "process" (one database), and what was created upstream. */
class World {
  rows = new Map<string, OpenRouterKey>();
  created: CreateKeyInput[] = [];
  deletedUpstream: string[] = [];
  /** Holds createKey open until released, so that other calls can arrive meanwhile. */
  gate: Promise<void> = Promise.resolve();
  getKey: (hash: string) => Promise<UpstreamKey> = async () => {
    throw new Error('not expected');
  };
  /** Who holds each user's lease (shared by every process), and when it frees. */
  leases = new Map<string, Promise<void>>();
  leaseRequests = 0;
}

/** `paused`: this process stops after its first read of the row until it resolves. */
async function processOf(world: World, paused: Promise<void> = Promise.resolve()) {
  const store = {
    find: async (userId: string) => (world.rows.has(userId) ? { ...world.rows.get(userId)! } : null),
    mayHoldKey: async () => {
      await paused;
      return true;
    },
    seal: (_u: string, plaintext: string) => `sealed(${plaintext})`,
  };
  const client = {
    createKey: async (input: CreateKeyInput) => {
      world.created.push(input);
      const n = world.created.length;
      await world.gate;
      return {
        key: `sk-${n}`,
        hash: `h${n}`,
        name: input.name,
        label: `label-${n}`,
        limit: input.limit,
        createdAt: null,
      };
    },
    getKey: (hash: string) => world.getKey(hash),
  };
  // One holder at a time across processes; others wait for it, then ask whenBusy (as the real lease polls).
  const lease = {
    hold: async <T>(userId: string, work: () => Promise<T>, whenBusy: () => Promise<T | undefined>): Promise<T> => {
      world.leaseRequests++;
      for (;;) {
        const held = world.leases.get(userId);
        if (!held) break;
        await held;
        const theirs = await whenBusy();
        if (theirs !== undefined) return theirs;
      }
      let free!: () => void;
      world.leases.set(userId, new Promise<void>((resolve) => (free = resolve)));
      try {
        return await work();
      } finally {
        world.leases.delete(userId);
        free();
      }
    },
  };
  const manager = {
    update: async (_entity: unknown, where: { userId: string }, values: Partial<OpenRouterKey>) => {
      const row = world.rows.get(where.userId) ?? ({ userId: where.userId } as OpenRouterKey);
      world.rows.set(where.userId, { ...row, ...values });
      return { affected: 1 };
    },
  };
  const budgets = {
    period: 'monthly',
    keepCurrent: async (row: OpenRouterKey | null) => row,
    afterReplacing: (_row: OpenRouterKey | null, spent: number) => ({ keyLimit: 10 - spent, period: 'monthly' }),
    columnsFor: () => ({}),
  };
  const moduleRef = await Test.createTestingModule({
    providers: [
      OpenRouterKeyProvisioner,
      { provide: getDataSourceToken(), useValue: { transaction: async (cb: (m: unknown) => unknown) => cb(manager) } },
      { provide: OpenRouterClient, useValue: client },
      { provide: OpenRouterKeyStore, useValue: store },
      { provide: KeyLease, useValue: lease },
      {
        provide: KeyDeletionQueue,
        useValue: { enqueue: async () => {}, deleteNow: async (h: string) => world.deletedUpstream.push(h) },
      },
      { provide: AuditService, useValue: { record: async () => {} } },
      { provide: AppConfig, useValue: { openRouter: { provisioningKey: 'prov' } } },
      { provide: InvalidationBus, useValue: { publish: async () => {} } },
      { provide: DeploymentIdentity, useValue: { installationId: INSTALLATION } },
      { provide: UserBudgets, useValue: budgets },
      { provide: KeyReplacementLimit, useValue: { take: async () => {} } },
      { provide: KeySpendCache, useValue: { known: () => undefined } },
    ],
  }).compile();
  return moduleRef.get(OpenRouterKeyProvisioner);
}

/** Lets every pending call run until it waits on something (the gate). */
async function settle() {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

function gated(world: World): () => void {
  let open!: () => void;
  world.gate = new Promise<void>((resolve) => (open = resolve));
  return open;
}

const activeRow = (hash: string): OpenRouterKey =>
  ({ userId: USER, status: 'active', keyEncrypted: 'sealed', upstreamHash: hash }) as OpenRouterKey;

describe('OpenRouterKeyProvisioner.ensureUserOpenRouterKey: one key per user', () => {
  it('concurrent calls in one process share one flight: one lease request, one createKey, all get that key', async () => {
    const world = new World();
    const provisioner = await processOf(world);
    const open = gated(world);
    const calls = Array.from({ length: 8 }, () => provisioner.ensureUserOpenRouterKey(USER));
    await settle();
    assert.equal(world.created.length, 1);
    open();
    const keys = await Promise.all(calls);
    assert.equal(world.created.length, 1);
    assert.equal(world.leaseRequests, 1);
    for (const key of keys) assert.equal(key?.upstreamHash, 'h1');
    assert.equal(world.rows.get(USER)?.keyEncrypted, 'sealed(sk-1)');
  });

  it('two processes asking at once: the second reads the row again under the lease and creates nothing', async () => {
    const world = new World();
    const [a, b] = await Promise.all([processOf(world), processOf(world)]);
    const open = gated(world);
    const first = a.ensureUserOpenRouterKey(USER);
    await settle();
    const second = b.ensureUserOpenRouterKey(USER);
    await settle();
    open();
    const [ka, kb] = await Promise.all([first, second]);
    assert.equal(world.created.length, 1);
    assert.equal(ka?.upstreamHash, 'h1');
    assert.equal(kb?.upstreamHash, 'h1');
  });

  it('a process that read "no key" before another stored one reads the row again once it holds the lease', async () => {
    const world = new World();
    let resume!: () => void;
    const [a, b] = await Promise.all([processOf(world), processOf(world, new Promise((r) => (resume = r)))]);
    // Spend is readable, so that a wrong second attempt would replace a's key rather than fail.
    world.getKey = async (hash) => ({ hash, disabled: false, usageMonthly: 0 }) as UpstreamKey;
    const open = gated(world);
    const first = a.ensureUserOpenRouterKey(USER, new Date(0));
    await settle();
    const second = b.ensureUserOpenRouterKey(USER, new Date(0)); // reads the row now: no key yet
    await settle();
    open();
    assert.equal((await first)?.upstreamHash, 'h1');
    resume(); // b goes on after a released the lease: it takes the lease without waiting
    assert.equal((await second)?.upstreamHash, 'h1');
    assert.equal(world.created.length, 1);
  });

  it('a user with a usable key gets it back without any upstream call', async () => {
    const world = new World();
    world.rows.set(USER, activeRow('h-existing'));
    const provisioner = await processOf(world);
    const key = await provisioner.ensureUserOpenRouterKey(USER);
    assert.equal(key?.upstreamHash, 'h-existing');
    assert.equal(world.created.length, 0);
  });

  it("names the key with the user and this installation's id, so that reconciliation can attribute it", async () => {
    const world = new World();
    await (await processOf(world)).ensureUserOpenRouterKey(USER);
    const parsed = parseKeyName(world.created[0].name);
    assert.equal(parsed?.userId, USER);
    assert.equal(parsed?.installationId, INSTALLATION);
  });

  it('a failed createKey is recorded on the row and not retried by a call that began before it', async () => {
    const world = new World();
    const provisioner = await processOf(world);
    const startedAt = new Date(Date.now() - 1000);
    world.gate = Promise.reject(new OpenRouterError('openrouter_unavailable', 'boom', { upstreamStatus: 500 }));
    world.gate.catch(() => {});
    const key = await provisioner.ensureUserOpenRouterKey(USER, startedAt);
    assert.equal(key?.status, 'provisioning_failed');
    world.gate = Promise.resolve();
    await provisioner.ensureUserOpenRouterKey(USER, startedAt);
    assert.equal(world.created.length, 1);
  });
});

describe('OpenRouterKeyProvisioner.replace: the old key’s spend first', () => {
  for (const [what, answer] of [
    [
      'OpenRouter does not answer',
      () => Promise.reject(new OpenRouterError('openrouter_timeout', 'slow', { retryable: true })),
    ],
    ['the answer has no usage for the period', () => Promise.resolve({ usage: 1, usageMonthly: null } as UpstreamKey)],
  ] as const) {
    it(`${what}: 502 openrouter_unavailable, nothing created, the stored key unchanged`, async () => {
      const world = new World();
      world.rows.set(USER, activeRow('h-old'));
      world.getKey = answer;
      const provisioner = await processOf(world);
      await assert.rejects(
        provisioner.replace(USER, 'refresh', SYSTEM_ACTOR),
        (err: unknown) => err instanceof AppError && err.code === 'openrouter_unavailable' && err.status === 502,
      );
      assert.equal(world.created.length, 0);
      assert.deepEqual(world.rows.get(USER), activeRow('h-old'));
      assert.deepEqual(world.deletedUpstream, []);
    });
  }

  it("the spend read counts: the new key's limit is what is left, and the old key is deleted", async () => {
    const world = new World();
    world.rows.set(USER, activeRow('h-old'));
    world.getKey = async (hash) =>
      ({ hash, disabled: false, usage: 7, usageMonthly: 3, usageDaily: 1, usageWeekly: 2 }) as UpstreamKey;
    const provisioner = await processOf(world);
    const key = await provisioner.replace(USER, 'refresh', SYSTEM_ACTOR);
    assert.equal(world.created.length, 1);
    assert.equal(world.created[0].limit, 7);
    assert.equal(key.upstreamHash, 'h1');
    assert.deepEqual(world.deletedUpstream, ['h-old']);
  });

  it('a renewal after a 401 on a key already replaced by someone else creates nothing', async () => {
    const world = new World();
    world.rows.set(USER, activeRow('h-new'));
    const provisioner = await processOf(world);
    const key = await provisioner.replace(USER, 'renewal', SYSTEM_ACTOR, 'h-stale');
    assert.equal(key.upstreamHash, 'h-new');
    assert.equal(world.created.length, 0);
  });

  it('a key disabled upstream is neither replaced nor deleted', async () => {
    const world = new World();
    world.rows.set(USER, activeRow('h-old'));
    world.getKey = async (hash) => ({ hash, disabled: true, usageMonthly: 0 }) as UpstreamKey;
    const provisioner = await processOf(world);
    await assert.rejects(
      provisioner.replace(USER, 'refresh', SYSTEM_ACTOR),
      (err: unknown) => err instanceof AppError && err.code === 'openrouter_key_disabled',
    );
    assert.equal(world.created.length, 0);
    assert.deepEqual(world.deletedUpstream, []);
  });
});

describe('keyName', () => {
  it('round-trips through parseKeyName', () => {
    assert.deepEqual(
      { ...parseKeyName(keyName(INSTALLATION, USER)), createdMs: 0 },
      { userId: USER, installationId: INSTALLATION, createdMs: 0 },
    );
  });
});
