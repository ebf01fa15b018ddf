import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { TableRepository, type UnitOfWork } from '#libs/database';

/** `clerk_webhook_deliveries`: one row per svix-id applied, so that a redelivery is recognised. */
@Injectable()
export class ClerkWebhookDeliveryRepository extends TableRepository {
  constructor(@InjectDataSource() dataSource: DataSource) {
    super(dataSource);
  }

  /** Records the delivery in the caller's transaction; false when it was recorded before (a redelivery). */
  async claim(uow: UnitOfWork, svixId: string, eventType: string): Promise<boolean> {
    const inserted: unknown[] = await this.manager(uow).query(
      `INSERT INTO clerk_webhook_deliveries (svix_id, event_type) VALUES ($1, $2) ON CONFLICT (svix_id) DO NOTHING RETURNING svix_id`,
      [svixId, eventType],
    );
    return inserted.length > 0;
  }
}
