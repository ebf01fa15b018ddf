/** Clerk's payload shapes and their mapping live in libs/clerk. */
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
