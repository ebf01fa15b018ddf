import { Injectable, Logger } from '@nestjs/common';
import { Transactions, type UnitOfWork } from '#libs/database';
import type { AuditScope } from '#libs/audit';
import { ApiKeyRevoker } from '#libs/api-keys';
import { ClerkEvent, ClerkMembershipData, ClerkOrganizationData, ClerkUserData } from '#libs/clerk';
import { KeyDeletionQueue } from '#libs/openrouter';
import { CacheTopic, InvalidationBus } from '#libs/redis';
import { AppliedChanges, noChanges } from './clerk-event.types';
import { ClerkOrganizationSync } from './clerk-organization.sync';
import { ClerkWebhookDeliveryRepository } from './clerk-webhook-delivery.repository';
import { ClerkUserSync } from './clerk-user.sync';

export type WebhookOutcome = 'applied' | 'unchanged' | 'duplicate' | 'ignored';

type Handler = (uow: UnitOfWork, event: ClerkEvent, scope: AuditScope, changes: AppliedChanges) => Promise<boolean>;

/**
 * Applies a verified Clerk event exactly once per svix-id: the delivery row and every change it
 * causes (with their audit events) commit together, so a redelivery finds the row and changes
 * nothing, and a failure leaves no row, so Svix's retry applies it then.
 */
@Injectable()
export class ClerkWebhookProcessor {
  private readonly logger = new Logger(ClerkWebhookProcessor.name);
  private readonly handlers: Record<string, Handler>;

  constructor(
    private readonly transactions: Transactions,
    private readonly deliveries: ClerkWebhookDeliveryRepository,
    private readonly users: ClerkUserSync,
    private readonly orgs: ClerkOrganizationSync,
    private readonly deletions: KeyDeletionQueue,
    private readonly bus: InvalidationBus,
    private readonly apiKeys: ApiKeyRevoker,
  ) {
    this.handlers = {
      'user.created': (uow, e, _s, c) => this.users.upsertProfile(uow, e.data as unknown as ClerkUserData, c),
      'user.updated': (uow, e, _s, c) => this.users.upsertProfile(uow, e.data as unknown as ClerkUserData, c),
      'user.deleted': (uow, e, s, c) =>
        this.users.deactivate(uow, e.data.id, s, c, (tx, userId) => this.apiKeys.revokeAllOfUser(tx, userId, s)),
      'organization.created': (uow, e, s, c) => this.orgs.upsert(uow, e.data as unknown as ClerkOrganizationData, s, c),
      'organization.updated': (uow, e, s, c) => this.orgs.upsert(uow, e.data as unknown as ClerkOrganizationData, s, c),
      'organization.deleted': (uow, e, s, c) => this.orgs.delete(uow, e.data as unknown as ClerkOrganizationData, s, c),
      'organizationMembership.created': (uow, e, s, c) =>
        this.orgs.upsertMembership(uow, e.data as ClerkMembershipData, s, c),
      'organizationMembership.updated': (uow, e, s, c) =>
        this.orgs.upsertMembership(uow, e.data as ClerkMembershipData, s, c),
      'organizationMembership.deleted': (uow, e, s, c) =>
        this.orgs.deleteMembership(uow, e.data as ClerkMembershipData, s, c),
    };
  }

  async process(svixId: string, event: ClerkEvent, requestId: string | null): Promise<WebhookOutcome> {
    const handler = Object.hasOwn(this.handlers, event.type) ? this.handlers[event.type] : undefined;
    const scope: AuditScope = { actor: { type: 'webhook', id: svixId }, requestId };
    const changes = noChanges();
    const outcome = await this.transactions.run(async (uow): Promise<WebhookOutcome> => {
      if (!(await this.deliveries.claim(uow, svixId, event.type.slice(0, 100)))) return 'duplicate';
      if (!handler) return 'ignored';
      return (await handler(uow, event, scope, changes)) ? 'applied' : 'unchanged';
    });
    this.logger.log(`Clerk webhook ${event.type} (${svixId}): ${outcome}`);
    if (outcome === 'applied') await this.afterCommit(changes);
    return outcome;
  }

  /** Caches on every instance, capabilities' own follow-up work, and upstream key deletions. */
  private async afterCommit(changes: AppliedChanges): Promise<void> {
    for (const id of changes.users) await this.bus.publish(CacheTopic.user, id);
    for (const id of changes.tenants) await this.bus.publish(CacheTopic.tenant, id);
    for (const work of changes.afterCommit) {
      try {
        await work();
      } catch (err) {
        this.logger.error({ err }, 'After-commit work of a Clerk webhook failed');
      }
    }
    // Queued in the transaction: a failure here is retried by the deletion queue (reconciliation).
    for (const hash of changes.upstreamKeys) await this.deletions.deleteNow(hash).catch(() => false);
  }
}
