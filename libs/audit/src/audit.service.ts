import { Injectable } from '@nestjs/common';
import { scrubSecrets } from '#libs/common';
import type { UnitOfWork } from '#libs/database';
import type { AuditAction } from './audit-actions';
import type { AuditActorType } from './audit-event.entity';
import { AuditEventRepository, type NewAuditEvent } from './audit-event.repository';

export interface AuditActor {
  type: AuditActorType;
  id: string | null;
  /** For an API key: the user it acts as, written to the row's metadata as `actor_user_id`. */
  userId?: string | null;
}

export interface AuditRecord {
  action: AuditAction;
  actor: AuditActor;
  tenantId?: string | null;
  target?: { type: string; id: string | null };
  /** Small and secret-free; string values are scrubbed anyway as a second wall. */
  metadata?: Record<string, unknown>;
  requestId?: string | null;
}

export const SYSTEM_ACTOR: AuditActor = { type: 'system', id: null };

/** Writes audit events, inside the caller's unit of work when given one. */
@Injectable()
export class AuditService {
  constructor(private readonly events: AuditEventRepository) {}

  async record(event: AuditRecord, uow?: UnitOfWork): Promise<void> {
    const row: NewAuditEvent = {
      action: event.action,
      actorType: event.actor.type,
      actorId: event.actor.id,
      targetType: event.target?.type ?? null,
      targetId: event.target?.id ?? null,
      metadata: scrubMetadata(withActorUser(event)),
      requestId: event.requestId ?? null,
    };
    if (event.tenantId != null) await this.events.forTenant(event.tenantId).insert(row, uow);
    else await this.events.insertWithoutTenant(row, uow);
  }
}

/** A change made with an API key names both the key (`actor_id`) and the user it acts as. */
function withActorUser(event: AuditRecord): Record<string, unknown> {
  const metadata = event.metadata ?? {};
  return event.actor.type === 'api_key' && event.actor.userId
    ? { ...metadata, actor_user_id: event.actor.userId }
    : metadata;
}

function scrubMetadata(metadata: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(scrubSecrets(JSON.stringify(metadata))) as Record<string, unknown>;
}
