/** Roles a user can hold in a tenant, strongest first. */
export const TENANT_ROLES = ['owner', 'admin', 'member'] as const;
export type TenantRole = (typeof TENANT_ROLES)[number];

export const API_KEY_SCOPES = ['users:read', 'users:write', 'chat', 'usage:read'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export interface ContextTenant {
  id: string;
  name: string;
  slug: string;
}

export interface ContextUser {
  id: string;
  clerkUserId: string | null;
  email: string | null;
}

export interface ContextApiKey {
  id: string;
  name: string;
  prefix: string;
  scopes: ApiKeyScope[];
  rateLimitPerMinute: number;
  userId: string | null;
}

/**
 * What the auth guard resolves every protected request into, once. Parameter decorators only read it.
 * `role` is the user's role in the active tenant (absent for API keys).
 */
export interface RequestContext {
  kind: 'clerk' | 'api_key';
  tenant: ContextTenant;
  user: ContextUser | null;
  apiKey: ContextApiKey | null;
  role: TenantRole | null;
  /** Clerk session id, for Clerk requests. */
  sessionId: string | null;
  isPlatformAdmin: boolean;
}

/** The request object as the guard leaves it (Fastify's raw request with our context bound). */
export interface ContextualRequest {
  id: string;
  headers: Record<string, string | string[] | undefined>;
  url: string;
  method: string;
  auth?: RequestContext;
}
