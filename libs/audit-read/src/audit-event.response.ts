import { ApiProperty } from '@nestjs/swagger';
import type { AuditEvent } from '#libs/audit';

export class AuditEventDto {
  @ApiProperty() id: string;
  @ApiProperty({ example: 'api_key.created' }) action: string;
  @ApiProperty({ enum: ['user', 'api_key', 'system', 'webhook', 'cli'] }) actor_type: string;
  @ApiProperty({ type: String, nullable: true, description: 'User id, API key id, svix-id or operator, by actor type' })
  actor_id: string | null;
  @ApiProperty({ type: String, nullable: true }) tenant_id: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'api_key' }) target_type: string | null;
  @ApiProperty({ type: String, nullable: true }) target_id: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Small, secret-free details' })
  metadata: Record<string, unknown>;
  @ApiProperty({ type: String, nullable: true }) request_id: string | null;
  @ApiProperty() created_at: string;
}

export class AuditEventPageDto {
  @ApiProperty({ type: [AuditEventDto] }) data: AuditEventDto[];
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as `cursor` for the next (older) page; null on the last page',
  })
  next_cursor: string | null;
}

/** The public form of an audit row, every field listed on purpose. */
export function toAuditEventDto(e: AuditEvent): AuditEventDto {
  return {
    id: e.id,
    action: e.action,
    actor_type: e.actorType,
    actor_id: e.actorId,
    tenant_id: e.tenantId,
    target_type: e.targetType,
    target_id: e.targetId,
    metadata: e.metadata ?? {},
    request_id: e.requestId,
    created_at: new Date(e.createdAt).toISOString(),
  };
}
