import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { KeySpend, OpenRouterKey } from '#libs/openrouter';
import type { TenantWithRole } from '#libs/tenants';
import type { User } from '../user.entity';

export type OpenRouterKeyStatusView = 'active' | 'not_configured' | 'provisioning_failed' | 'disabled';

export class TenantSummaryDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty() slug: string;
  @ApiProperty({ enum: ['owner', 'admin', 'member'] }) role: string;
}

export class OpenRouterKeyInfoDto {
  @ApiProperty({ type: String, nullable: true, example: 'sk-or-v1-abc…1c96' }) label: string | null;
  @ApiProperty({ type: Number, nullable: true }) limit: number | null;
  @ApiProperty({
    type: Number,
    nullable: true,
    example: 0.42,
    description: 'USD spent, from OpenRouter (cached briefly); null when unknown',
  })
  usage: number | null;
  @ApiProperty({
    type: Number,
    nullable: true,
    example: 14.58,
    description: 'USD left under the limit; null when unknown',
  })
  limit_remaining: number | null;
  @ApiProperty() auto_renewed: boolean;
  @ApiProperty() renewal_count: number;
  @ApiProperty({ type: String, nullable: true }) last_renewal_at: string | null;
  @ApiProperty({ type: String, nullable: true }) created_at: string | null;
}

export class MeResponseDto {
  @ApiProperty() id: string;
  @ApiProperty({ type: String, nullable: true }) clerk_user_id: string | null;
  @ApiProperty({ type: String, nullable: true }) email: string | null;
  @ApiProperty({ type: String, nullable: true }) first_name: string | null;
  @ApiProperty({ type: String, nullable: true }) last_name: string | null;
  @ApiProperty({ type: String, nullable: true }) image_url: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: "The user's own OpenRouter key (plaintext, for this user only)",
  })
  openrouter_api_key: string | null;
  @ApiProperty({ enum: ['active', 'not_configured', 'provisioning_failed', 'disabled'] })
  openrouter_key_status: OpenRouterKeyStatusView;
  @ApiPropertyOptional({ type: OpenRouterKeyInfoDto, nullable: true }) openrouter_key: OpenRouterKeyInfoDto | null;
  @ApiProperty({ type: String, nullable: true }) glm_api_key: string | null;
  @ApiProperty({ type: TenantSummaryDto, nullable: true }) tenant: TenantSummaryDto | null;
  @ApiProperty({ type: [TenantSummaryDto] }) tenants: TenantSummaryDto[];
  @ApiProperty({ type: String, nullable: true }) last_login_at: string | null;
  @ApiProperty() login_count: number;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;
}

export interface MeParts {
  user: User;
  keyRow: OpenRouterKey | null;
  openRouterKey: string | null;
  provisioningConfigured: boolean;
  glmKey: string | null;
  activeTenant: { id: string; name: string; slug: string; role: string | null } | null;
  tenants: TenantWithRole[];
}

const iso = (d: Date | null | undefined) => (d ? new Date(d).toISOString() : null);

/** Builds `/api/users/me` from its parts, listing every field on purpose. */
export function toMeResponse(p: MeParts): MeResponseDto {
  return {
    id: p.user.id,
    clerk_user_id: p.user.clerkUserId,
    email: p.user.email,
    first_name: p.user.firstName,
    last_name: p.user.lastName,
    image_url: p.user.imageUrl,
    openrouter_api_key: p.openRouterKey,
    openrouter_key_status: keyStatus(p),
    openrouter_key: p.keyRow?.upstreamHash
      ? {
          label: p.keyRow.label,
          limit: p.keyRow.spendingLimit,
          usage: null,
          limit_remaining: null,
          auto_renewed: p.keyRow.autoRenewed,
          renewal_count: p.keyRow.renewalCount,
          last_renewal_at: iso(p.keyRow.lastRenewalAt),
          created_at: iso(p.keyRow.keyCreatedAt),
        }
      : null,
    glm_api_key: p.glmKey,
    tenant: p.activeTenant
      ? {
          id: p.activeTenant.id,
          name: p.activeTenant.name,
          slug: p.activeTenant.slug,
          role: p.activeTenant.role ?? 'member',
        }
      : null,
    tenants: p.tenants.map((t) => ({ id: t.id, name: t.name, slug: t.slug, role: t.role })),
    last_login_at: iso(p.user.lastLoginAt),
    login_count: p.user.loginCount,
    created_at: iso(p.user.createdAt)!,
    updated_at: iso(p.user.updatedAt)!,
  };
}

/**
 * Adds the key's spend at response time: spend changes by the minute while the rest of the response only
 * changes with the user's snapshot, so a response built (or cached) per snapshot gets it merged here.
 * Returns a new object; the one passed in is left as it was.
 */
export function withKeySpend(response: MeResponseDto, spend: KeySpend | null): MeResponseDto {
  if (!response.openrouter_key) return response;
  return {
    ...response,
    openrouter_key: {
      ...response.openrouter_key,
      usage: spend?.usage ?? null,
      limit_remaining: spend?.limitRemaining ?? null,
    },
  };
}

function keyStatus(p: MeParts): OpenRouterKeyStatusView {
  if (p.keyRow?.status === 'disabled') return 'disabled';
  if (p.keyRow?.status === 'active' && p.openRouterKey) return 'active';
  if (!p.provisioningConfigured) return 'not_configured';
  return 'provisioning_failed';
}
