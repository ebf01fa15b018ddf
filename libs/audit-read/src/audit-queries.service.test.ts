/**
 * AuditQueries around a mocked audit read repository (Nest testing module, no database): a tenant's trail is read
 * through that tenant's view, the platform trail through the cross-tenant read only when no tenant is named, and
 * pages read one event more than asked to tell whether a next page exists.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Test } from '@nestjs/testing';
import { AuditEvent } from '#libs/audit';
import { encodeKeyset } from '#libs/common';
import { AuditEventReadRepository, AuditEventSlice, ListedAuditEvent } from './audit-event-read.repository';
import { AuditQueries } from './audit-queries.service';

const TENANT = '6f1f9c1e-0000-4000-8000-000000000001';
const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const at = (n: number) => `2026-01-01T00:00:${String(n).padStart(2, '0')}.000000Z`;

const listed = (n: number): ListedAuditEvent => ({
  id: uuid(n),
  cursor_at: at(n),
  event: Object.assign(new AuditEvent(), {
    id: uuid(n),
    action: 'api_key.created',
    actorType: 'user',
    actorId: null,
    tenantId: TENANT,
    targetType: null,
    targetId: null,
    metadata: {},
    requestId: null,
    createdAt: new Date(at(n)),
  }),
});

async function build(events: ListedAuditEvent[]) {
  const reads: string[] = [];
  const slices: AuditEventSlice[] = [];
  const repository = {
    forTenant: (tenantId: string) => {
      if (!tenantId) throw new Error('Tenant-owned query without a tenant id');
      return {
        tenantId,
        page: async (slice: AuditEventSlice) => {
          reads.push(`tenant ${tenantId}`);
          slices.push(slice);
          return events.slice(0, slice.take);
        },
      };
    },
    pageAcrossTenants: async (slice: AuditEventSlice) => {
      reads.push('all');
      slices.push(slice);
      return events.slice(0, slice.take);
    },
  };
  const moduleRef = await Test.createTestingModule({
    providers: [AuditQueries, { provide: AuditEventReadRepository, useValue: repository }],
  }).compile();
  return { queries: moduleRef.get(AuditQueries), reads, slices };
}

describe('AuditQueries', () => {
  it("reads a tenant's trail through its view, with the action filter, one event more than the limit", async () => {
    const { queries, reads, slices } = await build([listed(3), listed(2), listed(1)]);
    const page = await queries.forTenant(TENANT, { limit: 2, action: 'api_key.created' });
    assert.deepEqual(reads, [`tenant ${TENANT}`]);
    assert.deepEqual(slices, [{ action: 'api_key.created', after: null, take: 3 }]);
    assert.deepEqual(
      page.data.map((e) => e.id),
      [uuid(3), uuid(2)],
    );
    assert.equal(page.next_cursor, encodeKeyset({ at: at(2), id: uuid(2) }));
    assert.equal(page.data[0].created_at, '2026-01-01T00:00:03.000Z');
  });

  it('refuses a tenant read without a tenant', async () => {
    const { queries, reads } = await build([]);
    await assert.rejects(queries.forTenant('', {}), /without a tenant id/);
    assert.deepEqual(reads, []);
  });

  it('the platform trail reads across tenants only when no tenant is named', async () => {
    const { queries, reads, slices } = await build([listed(1)]);
    const cursor = encodeKeyset({ at: at(5), id: uuid(5) });
    const page = await queries.all(undefined, { cursor });
    await queries.all(TENANT, {});
    assert.deepEqual(reads, ['all', `tenant ${TENANT}`]);
    assert.deepEqual(slices[0], { action: undefined, after: { at: at(5), id: uuid(5) }, take: 51 });
    assert.equal(page.next_cursor, null);
  });
});
