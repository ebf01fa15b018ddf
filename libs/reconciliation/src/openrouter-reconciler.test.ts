/**
 * OpenRouterReconciler around mocked repositories and clients (Nest testing module, no database, no network): it
 * deletes only unreferenced keys named with this installation's id, older than the grace period, and never a key
 * of another service, of another installation or named before installation ids existed; one run at a time holds
 * the job lease (the real JobLease over a mocked lease table).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Test } from '@nestjs/testing';
import { AuditService, SYSTEM_ACTOR } from '#libs/audit';
import { DeploymentIdentity } from '#libs/installation';
import { KeyDeletionQueue, OpenRouterClient, OpenRouterError, UpstreamKey } from '#libs/openrouter';
import { JobLease } from './job-lease';
import { JobLeaseRepository } from './job-lease.repository';
import { OpenRouterReconciler, RECONCILE_LEASE } from './openrouter-reconciler';
import { UpstreamKeyReferenceRepository } from './read-model/upstream-key-reference.repository';
import { RECONCILIATION_OPTIONS, ReconciliationBusyError } from './reconciliation.types';

const OURS = 'c0ffee00-0000-4000-8000-000000000001';
const THEIRS = 'c0ffee00-0000-4000-8000-000000000002';
const USER = '0b7c4a52-0000-4000-8000-0000000000aa';
const OLD = Date.now() - 24 * 3_600_000;

const upstreamKey = (hash: string, name: string, createdAt: number | null = OLD): UpstreamKey =>
  ({
    hash,
    name,
    label: `label-${hash}`,
    disabled: false,
    createdAt: createdAt === null ? null : new Date(createdAt).toISOString(),
  }) as UpstreamKey;

/** The lease table of one job, as the repository answers it: one holder at a time until released. */
class MockLeases {
  holderToken: string | null = null;
  /** Set to make the next extension fail, as when the lease expired and another instance took it. */
  lost = false;
  log: string[] = [];
  async ensure() {}
  async take(name: string, owner: string) {
    assert.equal(name, RECONCILE_LEASE);
    if (this.holderToken) return false;
    this.holderToken = owner;
    this.log.push('take');
    return true;
  }
  async extend(_name: string, owner: string) {
    return !this.lost && this.holderToken === owner;
  }
  async release(_name: string, owner: string) {
    if (this.holderToken === owner) this.holderToken = null;
    this.log.push('release');
  }
  async holder() {
    return this.holderToken ? { owner: 'other-instance', until: new Date() } : null;
  }
}

async function build(
  keys: UpstreamKey[],
  opts: { referenced?: string[]; queued?: string[]; referencedLater?: string[]; leases?: MockLeases } = {},
) {
  const referenced = new Set(opts.referenced ?? []);
  const queued = new Set(opts.queued ?? []);
  // Stored by a provisioning after the listing was read: seen only by the check just before a deletion.
  const referencedLater = new Set(opts.referencedLater ?? []);
  const deleted: string[] = [];
  const audits: { action: string; target: { id: string } }[] = [];
  const leases = opts.leases ?? new MockLeases();
  const client = {
    provisioningConfigured: true,
    iterateKeys: async function* () {
      yield* keys;
    },
    deleteKey: async (hash: string) => {
      deleted.push(hash);
      return { alreadyGone: false };
    },
  };
  const references = {
    referencedHashes: async () => new Set(referenced),
    isReferencedOrQueued: async (hash: string) => referenced.has(hash) || queued.has(hash) || referencedLater.has(hash),
  };
  const moduleRef = await Test.createTestingModule({
    providers: [
      OpenRouterReconciler,
      JobLease,
      { provide: JobLeaseRepository, useValue: leases },
      { provide: UpstreamKeyReferenceRepository, useValue: references },
      { provide: OpenRouterClient, useValue: client },
      {
        provide: KeyDeletionQueue,
        useValue: { pendingHashes: async () => queued, retryDue: async () => ({ attempted: 0, deleted: 0 }) },
      },
      { provide: AuditService, useValue: { record: async (e: (typeof audits)[number]) => audits.push(e) } },
      { provide: DeploymentIdentity, useValue: { installationId: OURS } },
      { provide: RECONCILIATION_OPTIONS, useValue: { defaultGraceMs: 10 * 60_000, intervalMs: 0 } },
    ],
  }).compile();
  return { reconciler: moduleRef.get(OpenRouterReconciler), deleted, audits, client, leases };
}

const run = { dryRun: false, actor: SYSTEM_ACTOR };

describe('OpenRouterReconciler: what it deletes', () => {
  it("deletes an unreferenced old key named with this installation's id, and nothing else", async () => {
    const { reconciler, deleted, audits } = await build([
      upstreamKey('h-orphan', `umb:${USER}:${OURS}:${OLD}`),
      upstreamKey('h-other-install', `umb:${USER}:${THEIRS}:${OLD}`),
      upstreamKey('h-legacy', `umb:${USER}:${OLD}`),
      upstreamKey('h-other-service', 'production-backend'),
      upstreamKey('h-lookalike', `umb:${USER}:${OURS}:${OLD}:x`),
    ]);
    const report = await reconciler.run(run);
    assert.deepEqual(deleted, ['h-orphan']);
    assert.deepEqual(
      audits.map((a) => [a.action, a.target.id]),
      [['openrouter_key.deleted', 'h-orphan']],
    );
    assert.equal(report.scanned, 5);
    assert.equal(report.ours, 1);
    assert.equal(report.other_installations, 1);
    assert.equal(report.unattributed, 1);
    assert.equal(report.deleted, 1);
  });

  it('keeps our keys that a user references, that are queued, or that are younger than the grace period', async () => {
    const young = Date.now() - 60_000;
    const { reconciler, deleted } = await build(
      [
        upstreamKey('h-referenced', `umb:${USER}:${OURS}:${OLD}`),
        upstreamKey('h-queued', `umb:${USER}:${OURS}:${OLD}`),
        upstreamKey('h-young-name', `umb:${USER}:${OURS}:${young}`),
        upstreamKey('h-young-upstream', `umb:${USER}:${OURS}:${OLD}`, young),
      ],
      { referenced: ['h-referenced'], queued: ['h-queued'] },
    );
    const report = await reconciler.run(run);
    assert.deepEqual(deleted, []);
    assert.equal(report.referenced, 1);
    assert.equal(report.queued, 1);
    assert.equal(report.too_recent, 2);
  });

  it('a dry run lists the orphan but deletes nothing', async () => {
    const { reconciler, deleted, audits } = await build([upstreamKey('h-orphan', `umb:${USER}:${OURS}:${OLD}`)]);
    const report = await reconciler.run({ ...run, dryRun: true });
    assert.deepEqual(
      report.orphans.map((o) => [o.hash, o.user_id]),
      [['h-orphan', USER]],
    );
    assert.deepEqual(deleted, []);
    assert.deepEqual(audits, []);
  });

  it('a failed deletion is reported per key and the run goes on', async () => {
    const { reconciler, deleted, client } = await build([
      upstreamKey('h-a', `umb:${USER}:${OURS}:${OLD}`),
      upstreamKey('h-b', `umb:${USER}:${OURS}:${OLD}`),
    ]);
    client.deleteKey = async (hash: string) => {
      if (hash === 'h-a') throw new OpenRouterError('openrouter_unavailable', 'down', { upstreamStatus: 503 });
      deleted.push(hash);
      return { alreadyGone: false };
    };
    const report = await reconciler.run(run);
    assert.deepEqual(deleted, ['h-b']);
    assert.equal(report.failed, 1);
    assert.equal(report.orphans.find((o) => o.hash === 'h-a')?.error_code, 'openrouter_unavailable');
  });

  it('keeps an orphan that a user came to hold after the listing (checked again just before deleting)', async () => {
    const { reconciler, deleted } = await build([upstreamKey('h-stored-late', `umb:${USER}:${OURS}:${OLD}`)], {
      referencedLater: ['h-stored-late'],
    });
    const report = await reconciler.run(run);
    assert.deepEqual(deleted, []);
    assert.equal(report.referenced, 1);
    assert.equal(report.orphans[0].deleted, false);
  });
});

describe('OpenRouterReconciler: one run at a time (the job lease)', () => {
  it('another run holding the lease: busy, nothing listed or deleted', async () => {
    const leases = new MockLeases();
    leases.holderToken = 'elsewhere:42:abcd';
    const { reconciler, deleted } = await build([upstreamKey('h-orphan', `umb:${USER}:${OURS}:${OLD}`)], { leases });
    await assert.rejects(reconciler.run(run), (err: ReconciliationBusyError) => {
      assert.ok(err instanceof ReconciliationBusyError);
      assert.equal(err.holder, 'other-instance');
      return true;
    });
    assert.deepEqual(deleted, []);
    assert.equal(leases.holderToken, 'elsewhere:42:abcd');
  });

  it('a second run while the first holds the lease is refused; after it, the next run goes ahead', async () => {
    let unblock!: () => void;
    const blocked = new Promise<void>((resolve) => (unblock = resolve));
    const { reconciler, client, leases, deleted } = await build([
      upstreamKey('h-orphan', `umb:${USER}:${OURS}:${OLD}`),
    ]);
    const listing = client.iterateKeys;
    client.iterateKeys = async function* () {
      await blocked;
      yield* listing();
    };
    const first = reconciler.run(run);
    await new Promise((resolve) => setImmediate(resolve));
    await assert.rejects(reconciler.run(run), ReconciliationBusyError);
    unblock();
    assert.equal((await first).deleted, 1);
    assert.equal(leases.holderToken, null);
    await reconciler.run({ ...run, dryRun: true });
    assert.deepEqual(leases.log, ['take', 'release', 'take', 'release']);
    assert.deepEqual(deleted, ['h-orphan']);
  });

  it('a run whose lease was taken over stops before deleting, and still releases', async () => {
    const leases = new MockLeases();
    const { reconciler, deleted } = await build([upstreamKey('h-orphan', `umb:${USER}:${OURS}:${OLD}`)], { leases });
    leases.lost = true;
    await assert.rejects(reconciler.run(run), ReconciliationBusyError);
    assert.deepEqual(deleted, []);
    assert.equal(leases.log.at(-1), 'release');
  });

  it('releases the lease when the run fails', async () => {
    const { reconciler, client, leases } = await build([]);
    client.iterateKeys = async function* () {
      yield* [];
      throw new OpenRouterError('openrouter_unavailable', 'down', { upstreamStatus: 503 });
    };
    await assert.rejects(reconciler.run(run), OpenRouterError);
    assert.equal(leases.holderToken, null);
  });
});
