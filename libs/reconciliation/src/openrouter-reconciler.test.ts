/**
 * OpenRouterReconciler around mocked collaborators (Nest testing module, no database, no network): it
 * deletes only unreferenced keys named with this installation's id, older than the grace period, and
 * never a key of another service, of another installation or named before installation ids existed.
 * The service reads references with DataSource.query directly (no repository); the mock answers those
 * two queries from a set of hashes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Test } from '@nestjs/testing';
import { getDataSourceToken } from '@nestjs/typeorm';
import { AuditService, SYSTEM_ACTOR } from '#libs/audit';
import { DeploymentIdentity } from '#libs/installation';
import { KeyDeletionQueue, OpenRouterClient, OpenRouterError, UpstreamKey } from '#libs/openrouter';
import { JobLease } from './job-lease';
import { OpenRouterReconciler } from './openrouter-reconciler';
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

async function build(
  keys: UpstreamKey[],
  opts: { referenced?: string[]; queued?: string[]; leaseHeld?: boolean } = {},
) {
  const referenced = new Set(opts.referenced ?? []);
  const queued = new Set(opts.queued ?? []);
  const deleted: string[] = [];
  const audits: { action: string; target: { id: string } }[] = [];
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
  const dataSource = {
    query: async (sql: string, params?: string[]) => {
      if (params) return referenced.has(params[0]) || queued.has(params[0]) ? [{}] : [];
      assert.match(sql, /FROM openrouter_keys/);
      return [...referenced].map((upstream_hash) => ({ upstream_hash }));
    },
  };
  const lease = {
    tryAcquire: async () => (opts.leaseHeld ? null : { extend: async () => true, release: async () => undefined }),
    holder: async () => ({ owner: 'other-instance' }),
  };
  const moduleRef = await Test.createTestingModule({
    providers: [
      OpenRouterReconciler,
      { provide: getDataSourceToken(), useValue: dataSource },
      { provide: OpenRouterClient, useValue: client },
      {
        provide: KeyDeletionQueue,
        useValue: { pendingHashes: async () => queued, retryDue: async () => ({ attempted: 0, deleted: 0 }) },
      },
      { provide: AuditService, useValue: { record: async (e: (typeof audits)[number]) => audits.push(e) } },
      { provide: JobLease, useValue: lease },
      { provide: DeploymentIdentity, useValue: { installationId: OURS } },
      { provide: RECONCILIATION_OPTIONS, useValue: { defaultGraceMs: 10 * 60_000, intervalMs: 0 } },
    ],
  }).compile();
  return { reconciler: moduleRef.get(OpenRouterReconciler), deleted, audits, client };
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

  it('another run holding the lease: busy, nothing listed or deleted', async () => {
    const { reconciler, deleted } = await build([upstreamKey('h-orphan', `umb:${USER}:${OURS}:${OLD}`)], {
      leaseHeld: true,
    });
    await assert.rejects(reconciler.run(run), ReconciliationBusyError);
    assert.deepEqual(deleted, []);
  });
});
