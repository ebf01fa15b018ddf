/** The parts of Clerk's webhook events this service reads (https://clerk.com/docs/webhooks). */
export interface ClerkEvent {
  type: string;
  object?: string;
  data: Record<string, unknown>;
}

export interface ClerkUserData {
  id: string;
  email_addresses?: { id?: string; email_address?: string }[];
  primary_email_address_id?: string | null;
  first_name?: string | null;
  last_name?: string | null;
  image_url?: string | null;
  profile_image_url?: string | null;
}

export interface ClerkOrganizationData {
  id: string;
  name?: string | null;
  slug?: string | null;
}

export interface ClerkMembershipData {
  id?: string;
  role?: string | null;
  organization?: ClerkOrganizationData;
  public_user_data?: {
    user_id?: string;
    identifier?: string | null;
    first_name?: string | null;
    last_name?: string | null;
    image_url?: string | null;
  };
}

/** What applying an event changed, for cache invalidation and background work after the commit. */
export interface AppliedChanges {
  users: Set<string>;
  tenants: Set<string>;
  /** Upstream OpenRouter keys queued for deletion (user.deleted), deleted right after the commit. */
  upstreamKeys: Set<string>;
  /** Work registered by capabilities on top of tenants (API keys) through TenantChangeHooks. */
  afterCommit: (() => void | Promise<void>)[];
}

export function noChanges(): AppliedChanges {
  return { users: new Set(), tenants: new Set(), upstreamKeys: new Set(), afterCommit: [] };
}

export function primaryEmail(user: ClerkUserData): string | null {
  const list = Array.isArray(user.email_addresses) ? user.email_addresses : [];
  const primary = list.find((e) => e.id && e.id === user.primary_email_address_id) ?? list[0];
  const email = primary?.email_address;
  return typeof email === 'string' && email.includes('@') ? email.trim() : null;
}
