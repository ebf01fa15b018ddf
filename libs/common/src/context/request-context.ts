/*
 * The request context names roles and scopes without knowing them: the tenants lib owns the roles
 * (`TenantRole`) and the api-keys lib the scopes (`ApiKeyScope`); both narrow these strings.
 */

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
  scopes: readonly string[];
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
  role: string | null;
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
