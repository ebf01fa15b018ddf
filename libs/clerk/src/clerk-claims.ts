/** The organization a session token names (Clerk's own role string, mapped to a tenant role by tenants). */
export interface ClerkOrganizationClaim {
  id: string;
  slug: string | null;
  role: string | null;
}

/** The parts of a verified Clerk session token this service uses. */
export interface ClerkClaims {
  sub: string;
  sid: string | null;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  imageUrl: string | null;
  organization: ClerkOrganizationClaim | null;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

/** Reads organization from v2 (`o: {id, rol, slg}`) or v1 (`org_id`, `org_role`, `org_slug`) claims. */
export function parseClerkClaims(payload: Record<string, unknown>): ClerkClaims {
  const o = payload.o && typeof payload.o === 'object' ? (payload.o as Record<string, unknown>) : null;
  const orgId = str(o?.id) ?? str(payload.org_id);
  return {
    sub: String(payload.sub),
    sid: str(payload.sid),
    email: str(payload.email),
    firstName: str(payload.first_name),
    lastName: str(payload.last_name),
    imageUrl: str(payload.image_url),
    organization: orgId
      ? { id: orgId, slug: str(o?.slg) ?? str(payload.org_slug), role: str(o?.rol) ?? str(payload.org_role) }
      : null,
  };
}
