import type { MemberRow } from '#libs/tenants';
import type { IntegrationUserDto } from './dto/integration-user.response';

export function toIntegrationUser(m: MemberRow): IntegrationUserDto {
  return {
    id: m.userId,
    email: m.email,
    first_name: m.firstName,
    last_name: m.lastName,
    role: m.role,
    status: m.status,
    last_login_at: m.lastLoginAt ? new Date(m.lastLoginAt).toISOString() : null,
    created_at: new Date(m.userCreatedAt).toISOString(),
  };
}
