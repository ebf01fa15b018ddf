import type { OpenRouterKey } from '#libs/openrouter';
import type { TenantWithRole } from '#libs/tenants';
import type { User } from '../user.entity';

/** Everything the request path needs about a signed-in user, read together and cached together. */
export interface UserSnapshot {
  user: User;
  tenants: TenantWithRole[];
  keyRow: OpenRouterKey | null;
  glmKeyEncrypted: string | null;
}
