/**
 * The webhooks lib's repository on a real, migrated database: a delivery is claimed once per svix-id, and a claim
 * in a unit of work that rolls back leaves no row (so that Svix's retry applies the event then).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openMediumDatabase, type MediumDatabase } from '../support/medium-database';
import { ClerkWebhookDeliveryRepository } from '../../libs/webhooks/src/clerk/clerk-webhook-delivery.repository';

describe('webhooks repositories', () => {
  let db: MediumDatabase;
  let deliveries: ClerkWebhookDeliveryRepository;

  before(async () => {
    db = await openMediumDatabase();
    deliveries = new ClerkWebhookDeliveryRepository(db.dataSource);
  });
  after(() => db?.close());

  const stored = async (svixId: string) =>
    db.dataSource.query(`SELECT event_type FROM clerk_webhook_deliveries WHERE svix_id = $1`, [svixId]);

  it('claims a delivery once: a redelivery is refused', async () => {
    assert.equal(await db.transactions.run((uow) => deliveries.claim(uow, 'msg_1', 'user.created')), true);
    assert.equal(await db.transactions.run((uow) => deliveries.claim(uow, 'msg_1', 'user.created')), false);
    assert.deepEqual(await stored('msg_1'), [{ event_type: 'user.created' }]);
  });

  it('a claim rolled back with its unit of work leaves no row, and can be claimed again', async () => {
    await assert.rejects(
      db.transactions.run(async (uow) => {
        assert.equal(await deliveries.claim(uow, 'msg_2', 'organization.deleted'), true);
        throw new Error('handler failed');
      }),
      /handler failed/,
    );
    assert.deepEqual(await stored('msg_2'), []);
    assert.equal(await db.transactions.run((uow) => deliveries.claim(uow, 'msg_2', 'organization.deleted')), true);
  });
});
