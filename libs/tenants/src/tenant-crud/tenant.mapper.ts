import type { TenantRole } from '../roles';
import type { TenantResponseDto } from './dto/tenant.response';

export interface TenantView {
  id: string;
  name: string;
  slug: string;
  createdAt: Date | string;
}

/** Lists every field on purpose: entities never leave the service. */
export function toTenantResponse(t: TenantView, role: TenantRole): TenantResponseDto {
  return { id: t.id, name: t.name, slug: t.slug, role, created_at: new Date(t.createdAt).toISOString() };
}
