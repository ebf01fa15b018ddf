/**
 * The audit read repository on a real database: a tenant's view shows only that tenant's events (newest first,
 * filtered by action, resumed after a position), and the platform trail shows every tenant's and those of none.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuditEventReadRepository } from '#libs/audit-read';
import { openMediumDatabase, type MediumDatabase } from '../support/medium-database';

const A = '6f1f9c1e-0000-4000-8000-00000000000a';
const B = '6f1f9c1e-0000-4000-8000-00000000000b';

describe('AuditEventReadRepository', () => {
  let db: MediumDatabase;
  let events: AuditEventReadRepository;
  before(async () => {
    db = await openMediumDatabase();
    events = new AuditEventReadRepository(db.dataSource);
    // Audit events have no foreign keys: tenants need not exist. Oldest first, a minute apart.
    const rows: [string | null, string, string][] = [
      [A, 'api_key.created', 'a1'],
      [B, 'api_key.created', 'b1'],
      [A, 'api_key.revoked', 'a2'],
      [null, 'openrouter_key.deleted', 'none1'],
      [A, 'api_key.created', 'a3'],
    ];
    for (const [i, [tenant, action, target]] of rows.entries()) {
      await db.dataSource.query(
        `INSERT INTO audit_events (action, actor_type, tenant_id, target_type, target_id, metadata, created_at)
         VALUES ($1, 'system', $2, 'test', $3, $4, timestamptz '2026-01-01T00:00:00Z' + $5 * interval '1 minute')`,
        [action, tenant, target, JSON.stringify({ n: i }), i],
      );
    }
  });
  after(() => db?.close());

  const targets = (rows: { event: { targetId: string | null } }[]) => rows.map((r) => r.event.targetId);

  it("a tenant's view shows only its events, newest first, as audit events", async () => {
    const rows = await events.forTenant(A).page({ after: null, take: 10 });
    assert.deepEqual(targets(rows), ['a3', 'a2', 'a1']);
    assert.equal(rows[0].event.tenantId, A);
    assert.deepEqual(rows[0].event.metadata, { n: 4 });
    assert.equal(rows[0].event.createdAt.toISOString(), '2026-01-01T00:04:00.000Z');
    assert.equal(rows[0].cursor_at, '2026-01-01T00:04:00.000000Z');
    assert.equal(rows[0].id, rows[0].event.id);
  });

  it("tenant B's events are invisible through A's view, and A's through B's", async () => {
    assert.deepEqual(targets(await events.forTenant(B).page({ after: null, take: 10 })), ['b1']);
    const ofA = await events.forTenant(A).page({ after: null, take: 10 });
    assert.ok(ofA.every((r) => r.event.tenantId === A));
  });

  it('filters by action, takes at most `take`, and resumes after a position', async () => {
    const view = events.forTenant(A);
    assert.deepEqual(targets(await view.page({ action: 'api_key.created', after: null, take: 10 })), ['a3', 'a1']);
    const first = await view.page({ after: null, take: 2 });
    assert.deepEqual(targets(first), ['a3', 'a2']);
    const rest = await view.page({ after: { at: first[1].cursor_at, id: first[1].id }, take: 2 });
    assert.deepEqual(targets(rest), ['a1']);
  });

  it('refuses a view without a tenant', () => {
    assert.throws(() => events.forTenant(''), /without a tenant id/);
  });

  it("the platform trail shows every tenant's events and those of no tenant", async () => {
    assert.deepEqual(targets(await events.pageAcrossTenants({ after: null, take: 10 })), [
      'a3',
      'none1',
      'a2',
      'b1',
      'a1',
    ]);
    assert.deepEqual(
      targets(await events.pageAcrossTenants({ action: 'openrouter_key.deleted', after: null, take: 10 })),
      ['none1'],
    );
  });
});
