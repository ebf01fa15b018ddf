import { SetMetadata } from '@nestjs/common';
import { REQUIRED_SCOPES } from '#libs/common';

export const API_KEY_SCOPES = ['users:read', 'users:write', 'chat', 'usage:read'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** API-key scopes the route needs (Clerk users are not scope-limited). */
export const RequireScopes = (...scopes: ApiKeyScope[]) => SetMetadata(REQUIRED_SCOPES, scopes);
