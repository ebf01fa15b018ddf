import type { OpenRouterKey } from '../../../openrouter/src';
import type { TenantWithRole } from '../../../tenants/src';
import type { User } from '../user.entity';

/** Everything the request path needs about a signed-in user, read together and cached together. */
export interface UserSnapshot {
  user: User;
  tenants: TenantWithRole[];
  keyRow: OpenRouterKey | null;
  glmKeyEncrypted: string | null;
}
