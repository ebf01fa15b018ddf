/**
 * OpenRouterKeyProvisioner with its real helpers (UpstreamKeyMaker, KeyChangeRecorder, KeyLease, KeyDeletionQueue,
 * UserBudgets, OpenRouterKeyStore) around mocked repositories, a mocked OpenRouter client and no database (Nest
 * testing module): one upstream key however many calls ask at once (one flight in a process, the lease between
 * processes, the row read again under the lease), a replacement counts the old key's spend against the budget,
 * and a replacement that cannot read that spend creates nothing. The "processes" share one World: the rows, the
 * lease and what OpenRouter holds.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Test } from '@nestjs/testing';
import { AuditService, SYSTEM_ACTOR, type AuditRecord } from '#libs/audit';
import { AppError, SecretBox } from '#libs/common';
import { AppConfig } from '#libs/config';
import { Transactions, type UnitOfWork } from '#libs/database';
import { DeploymentIdentity, SealedColumns } from '#libs/installation';
import { InvalidationBus } from '#libs/redis';
import { OpenRouterClient, OpenRouterError } from '../client';
import type { CreateKeyInput, UpstreamKey } from '../client/openrouter.types';
import { periodStart } from '../budget/budget-period';
import { UserBudgets } from '../budget/user-budgets';
import { KeySpendCache } from '../spend/key-spend.cache';
import { KeyChangeRecorder } from './key-change.recorder';
import { KeyDeletionQueue } from './key-deletion.queue';
import { KeyLease } from './key-lease';
import { keyName, parseKeyName } from './key-name';
import { OpenRouterKeyDeletionRepository } from './openrouter-key-deletion.repository';
import type { OpenRouterKey } from './openrouter-key.entity';
import { OpenRouterKeyProvisioner } from './openrouter-key.provisioner';
import { OpenRouterKeyRepository, type BudgetColumns, type NewKeyColumns } from './openrouter-key.repository';
import { OpenRouterKeyStore } from './openrouter-key.store';
import { KeyReplacementLimit } from './replacement-limit';
import { UpstreamKeyMaker } from './upstream-key.maker';

const USER = '0b7c4a52-0000-4000-8000-0000000000aa';
const INSTALLATION = 'c0ffee00-0000-4000-8000-000000000001';

/** A row as the lease's INSERT makes it. */
const blankRow = (userId: string): OpenRouterKey =>
  ({
    userId,
    keyEncrypted: null,
    upstreamHash: null,
    label: null,
    name: null,
    spendingLimit: null,
    budgetUsd: null,
    budgetPeriod: 'none',
    periodStartedAt: null,
    replacedSpendUsd: 0,
    status: 'none',
    lastErrorCode: null,
    lastAttemptAt: null,
    autoRenewed: false,
    renewalCount: 0,
    lastRenewalAt: null,
    keyCreatedAt: null,
  }) as OpenRouterKey;

/** An active key of this month's budget period, its limit what the budget gives it (nothing stale). */
const activeRow = (hash: string, replacedSpendUsd = 0): OpenRouterKey => ({
  ...blankRow(USER),
  status: 'active',
  keyEncrypted: 'sealed',
  upstreamHash: hash,
  budgetPeriod: 'monthly',
  periodStartedAt: periodStart('monthly', new Date()),
  replacedSpendUsd,
  spendingLimit: 10 - replacedSpendUsd,
});

/** The database rows every "process" shares, the lease, and what OpenRouter was asked. */
class World {
  rows = new Map<string, OpenRouterKey>();
  leases = new Map<string, string>();
  leaseTaken = 0;
  queued: { hash: string; reason: string }[] = [];
  audits: AuditRecord[] = [];
  created: CreateKeyInput[] = [];
  deletedUpstream: string[] = [];
  /** Holds createKey open until released, so that other calls can arrive meanwhile. */
  gate: Promise<void> = Promise.resolve();
  /** Runs when OpenRouter has created a key, before it answers. */
  onCreate: () => void = () => {};
  getKey: (hash: string) => Promise<UpstreamKey> = async () => {
    throw new Error('not expected');
  };
}

/** The repositories on the World's rows: what their statements do, in memory. */
function keyRepository(world: World, paused: Promise<void>) {
  return {
    find: async (userId: string) => (world.rows.has(userId) ? { ...world.rows.get(userId)! } : null),
    userMayHoldKey: async () => {
      await paused;
      return true;
    },
    takeLease: async (userId: string, token: string) => {
      if (!world.rows.has(userId)) world.rows.set(userId, blankRow(userId));
      if (world.leases.has(userId)) return false;
      world.leases.set(userId, token);
      world.leaseTaken++;
      return true;
    },
    releaseLease: async (userId: string, token: string) => {
      if (world.leases.get(userId) === token) world.leases.delete(userId);
    },
    writeNewKey: async (_uow: UnitOfWork, userId: string, key: NewKeyColumns, renewedAt: Date | null) => {
      const row = world.rows.get(userId);
      if (!row || row.status === 'disabled') return false;
      const renewal = renewedAt
        ? { autoRenewed: true, renewalCount: row.renewalCount + 1, lastRenewalAt: renewedAt }
        : {};
      world.rows.set(userId, { ...row, ...key, ...renewal });
      return true;
    },
    recordFailedAttempt: async (_uow: UnitOfWork, userId: string, code: string, at: Date, failed: boolean) => {
      const row = world.rows.get(userId)!;
      world.rows.set(userId, {
        ...row,
        lastErrorCode: code,
        lastAttemptAt: at,
        ...(failed ? { status: 'provisioning_failed' } : {}),
      });
    },
    writeBudgetColumns: async (userId: string, _hash: string, columns: BudgetColumns) => {
      world.rows.set(userId, { ...world.rows.get(userId)!, ...columns });
    },
  };
}

function deletionRepository(world: World) {
  return {
    enqueue: async (_uow: UnitOfWork, hash: string, _userId: string | null, reason: string) => {
      world.queued.push({ hash, reason });
    },
    remove: async (_uow: UnitOfWork, hash: string) => {
      world.queued = world.queued.filter((q) => q.hash !== hash);
      return USER;
    },
    recordFailedAttempt: async () => {},
  };
}

/** `paused`: this process stops when it asks whether the user may hold a key, until it resolves. */
async function processOf(world: World, paused: Promise<void> = Promise.resolve()) {
  const client = {
    createKey: async (input: CreateKeyInput) => {
      world.created.push(input);
      const n = world.created.length;
      await world.gate;
      world.onCreate();
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
    deleteKey: async (hash: string) => {
      world.deletedUpstream.push(hash);
      return { alreadyGone: false };
    },
  };
  const moduleRef = await Test.createTestingModule({
    providers: [
      OpenRouterKeyProvisioner,
      UpstreamKeyMaker,
      KeyChangeRecorder,
      KeyLease,
      KeyDeletionQueue,
      UserBudgets,
      OpenRouterKeyStore,
      { provide: OpenRouterKeyRepository, useValue: keyRepository(world, paused) },
      { provide: OpenRouterKeyDeletionRepository, useValue: deletionRepository(world) },
      { provide: Transactions, useValue: { run: (work: (u: UnitOfWork) => unknown) => work({} as UnitOfWork) } },
      { provide: OpenRouterClient, useValue: client },
      { provide: AuditService, useValue: { record: async (event: AuditRecord) => world.audits.push(event) } },
      {
        provide: AppConfig,
        useValue: { openRouter: { provisioningKey: 'prov', keyLimit: 10, keyLimitReset: 'monthly', timeoutMs: 1000 } },
      },
      { provide: InvalidationBus, useValue: { publish: async () => {} } },
      { provide: DeploymentIdentity, useValue: { installationId: INSTALLATION } },
      { provide: SecretBox, useValue: { seal: (plaintext: string) => `sealed(${plaintext})` } },
      { provide: SealedColumns, useValue: { register: () => {} } },
      { provide: KeyReplacementLimit, useValue: { take: async () => {} } },
      { provide: KeySpendCache, useValue: { known: () => null } },
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

const spendAnswer =
  (usageMonthly: number | null, disabled = false) =>
  async (hash: string) =>
    ({ hash, disabled, usage: 7, usageMonthly, usageDaily: 1, usageWeekly: 2, limit: null }) as UpstreamKey;

describe('OpenRouterKeyProvisioner.ensureUserOpenRouterKey: one key per user', () => {
  it('concurrent calls in one process share one flight: one lease, one createKey, all get that key', async () => {
    const world = new World();
    const provisioner = await processOf(world);
    const open = gated(world);
    const calls = Array.from({ length: 8 }, () => provisioner.ensureUserOpenRouterKey(USER));
    await settle();
    assert.equal(world.created.length, 1);
    open();
    const keys = await Promise.all(calls);
    assert.equal(world.created.length, 1);
    assert.equal(world.leaseTaken, 1);
    for (const key of keys) assert.equal(key?.upstreamHash, 'h1');
    assert.equal(world.rows.get(USER)?.keyEncrypted, 'sealed(sk-1)');
    assert.equal(world.leases.size, 0);
    assert.deepEqual(
      world.audits.map((a) => [a.action, a.metadata?.upstream_hash, a.metadata?.limit]),
      [['openrouter_key.provisioned', 'h1', 10]],
    );
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
    world.getKey = spendAnswer(0);
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
    assert.equal(world.leaseTaken, 0);
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
    assert.equal(key?.lastErrorCode, 'openrouter_unavailable');
    assert.deepEqual(
      world.audits.map((a) => [a.action, a.metadata?.error_code]),
      [['openrouter_key.provisioning_failed', 'openrouter_unavailable']],
    );
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
    ['the answer has no usage for the period', spendAnswer(null)],
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
      assert.deepEqual(world.audits, []);
    });
  }

  it("the spend read counts: the new key's limit is what is left, and the old key is deleted", async () => {
    const world = new World();
    world.rows.set(USER, activeRow('h-old'));
    world.getKey = spendAnswer(3);
    const provisioner = await processOf(world);
    const key = await provisioner.replace(USER, 'refresh', SYSTEM_ACTOR);
    assert.equal(world.created.length, 1);
    assert.equal(world.created[0].limit, 7);
    assert.equal(world.created[0].limitReset, 'monthly');
    assert.equal(key.upstreamHash, 'h1');
    assert.deepEqual(world.deletedUpstream, ['h-old']);
    assert.deepEqual(world.queued, []);
  });

  it('a replacement adds the old key’s usage to what replaced keys spent before (replaced_spend_usd)', async () => {
    const world = new World();
    world.rows.set(USER, activeRow('h-old', 2));
    world.getKey = spendAnswer(3);
    const key = await (await processOf(world)).replace(USER, 'refresh', SYSTEM_ACTOR);
    assert.equal(world.created[0].limit, 5);
    assert.equal(key.replacedSpendUsd, 5);
    assert.equal(key.spendingLimit, 5);
    const audit = world.audits.find((a) => a.action === 'openrouter_key.refreshed');
    assert.deepEqual(
      [audit?.metadata?.replaced_hash, audit?.metadata?.replaced_key_spend, audit?.metadata?.limit],
      ['h-old', 3, 5],
    );
  });

  it('a renewal after a 401 replaces the failed key once, and counts the renewal on the row', async () => {
    const world = new World();
    world.rows.set(USER, activeRow('h-old'));
    world.getKey = spendAnswer(1);
    const provisioner = await processOf(world);
    const [k1, k2] = await Promise.all([
      provisioner.replace(USER, 'renewal', SYSTEM_ACTOR, 'h-old'),
      provisioner.replace(USER, 'renewal', SYSTEM_ACTOR, 'h-old'),
    ]);
    const again = await provisioner.replace(USER, 'renewal', SYSTEM_ACTOR, 'h-old');
    assert.equal(world.created.length, 1);
    for (const key of [k1, k2, again]) assert.equal(key.upstreamHash, 'h1');
    assert.equal(world.rows.get(USER)?.renewalCount, 1);
    assert.equal(world.rows.get(USER)?.autoRenewed, true);
  });

  it('a renewal after a 401 on a key already replaced by someone else creates nothing', async () => {
    const world = new World();
    world.rows.set(USER, activeRow('h-new'));
    const provisioner = await processOf(world);
    const key = await provisioner.replace(USER, 'renewal', SYSTEM_ACTOR, 'h-stale');
    assert.equal(key.upstreamHash, 'h-new');
    assert.equal(world.created.length, 0);
  });

  it('a key disabled upstream is neither replaced nor deleted, and the next 401 on it does not ask again', async () => {
    const world = new World();
    world.rows.set(USER, activeRow('h-old'));
    let asked = 0;
    world.getKey = async (hash) => {
      asked++;
      return spendAnswer(0, true)(hash);
    };
    const provisioner = await processOf(world);
    const disabled = (err: unknown) => err instanceof AppError && err.code === 'openrouter_key_disabled';
    await assert.rejects(provisioner.replace(USER, 'renewal', SYSTEM_ACTOR, 'h-old'), disabled);
    await assert.rejects(provisioner.replace(USER, 'renewal', SYSTEM_ACTOR, 'h-old'), disabled);
    assert.equal(asked, 1);
    assert.equal(world.created.length, 0);
    assert.deepEqual(world.deletedUpstream, []);
  });

  it('a user disabled while the key was created gets no key: the new key is deleted upstream', async () => {
    const world = new World();
    world.rows.set(USER, activeRow('h-old'));
    world.getKey = spendAnswer(0);
    world.onCreate = () => world.rows.set(USER, { ...world.rows.get(USER)!, status: 'disabled' });
    const provisioner = await processOf(world);
    await assert.rejects(
      provisioner.replace(USER, 'refresh', SYSTEM_ACTOR),
      (err: unknown) => err instanceof AppError && err.code === 'user_not_active',
    );
    assert.equal(world.rows.get(USER)?.upstreamHash, 'h-old');
    assert.deepEqual(world.deletedUpstream, ['h1']);
    assert.deepEqual(world.queued, []);
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
