/**
 * The audit lib's repository on a real, migrated database: a tenant's view writes rows of that tenant only, the
 * one write without a tenant leaves tenant_id null, writes join the caller's unit of work (gone on rollback), and
 * AuditService's rows carry the scrubbed metadata and the acting user of an API key.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuditEventRepository, AuditService, type NewAuditEvent } from '#libs/audit';
import { openMediumDatabase, type MediumDatabase } from '../support/medium-database';

const TENANT_A = '6f1f9c1e-0000-4000-8000-0000000000a1';
const TENANT_B = '6f1f9c1e-0000-4000-8000-0000000000b1';

interface Row {
  action: string;
  tenant_id: string | null;
  actor_type: string;
  actor_id: string | null;
  target_id: string | null;
  metadata: Record<string, unknown>;
  request_id: string | null;
}

function event(action: string, metadata: Record<string, unknown> = {}): NewAuditEvent {
  return {
    action,
    actorType: 'user',
    actorId: 'u-1',
    targetType: 'tenant',
    targetId: 't-1',
    metadata,
    requestId: 'req-1',
  };
}

describe('audit repositories', () => {
  let db: MediumDatabase;
  let events: AuditEventRepository;

  before(async () => {
    db = await openMediumDatabase();
    events = new AuditEventRepository(db.dataSource);
  });
  after(() => db?.close());

  const rows = (action: string): Promise<Row[]> =>
    db.dataSource.query(
      `SELECT action, tenant_id, actor_type, actor_id, target_id, metadata, request_id FROM audit_events
        WHERE action = $1 ORDER BY created_at`,
      [action],
    );

  it("a tenant's view writes the row with that tenant", async () => {
    await events.forTenant(TENANT_A).insert(event('probe.a', { n: 1 }));
    await events.forTenant(TENANT_B).insert(event('probe.a', { n: 2 }));
    const written = await rows('probe.a');
    assert.deepEqual(
      written.map((r) => [r.tenant_id, r.metadata.n]),
      [
        [TENANT_A, 1],
        [TENANT_B, 2],
      ],
    );
    assert.deepEqual(
      { ...written[0], metadata: undefined },
      {
        action: 'probe.a',
        tenant_id: TENANT_A,
        actor_type: 'user',
        actor_id: 'u-1',
        target_id: 't-1',
        metadata: undefined,
        request_id: 'req-1',
      },
    );
  });

  it('insertWithoutTenant writes tenant_id null', async () => {
    await events.insertWithoutTenant(event('probe.none'));
    assert.deepEqual(
      (await rows('probe.none')).map((r) => r.tenant_id),
      [null],
    );
  });

  it('writes in the caller’s unit of work: committed with it, gone when it rolls back', async () => {
    await db.transactions.run((uow) => events.forTenant(TENANT_A).insert(event('probe.commit'), uow));
    await assert.rejects(
      db.transactions.run(async (uow) => {
        await events.forTenant(TENANT_A).insert(event('probe.rollback'), uow);
        await events.insertWithoutTenant(event('probe.rollback'), uow);
        throw new Error('abort');
      }),
      /abort/,
    );
    assert.equal((await rows('probe.commit')).length, 1);
    assert.equal((await rows('probe.rollback')).length, 0);
  });

  it('refuses a view without a tenant id', () => {
    assert.throws(() => events.forTenant(''), /without a tenant id/);
  });

  it('AuditService: the tenant picks the view, secrets are scrubbed, a key names its user', async () => {
    const audit = new AuditService(events);
    await audit.record({
      action: 'api_key.created',
      actor: { type: 'api_key', id: 'key-1', userId: 'u-9' },
      tenantId: TENANT_B,
      target: { type: 'api_key', id: 'key-2' },
      metadata: { secret: 'sk-or-v1-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef' },
    });
    await audit.record({ action: 'user.deactivated', actor: { type: 'webhook', id: 'msg_1' } });
    const [keyRow] = await rows('api_key.created');
    assert.equal(keyRow.tenant_id, TENANT_B);
    assert.equal(keyRow.metadata.actor_user_id, 'u-9');
    assert.doesNotMatch(JSON.stringify(keyRow.metadata), /0123456789abcdef0123456789abcdef/);
    const [userRow] = await rows('user.deactivated');
    assert.equal(userRow.tenant_id, null);
    assert.equal(userRow.actor_type, 'webhook');
  });
});
