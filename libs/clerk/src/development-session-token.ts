import { createHash, randomBytes, sign } from 'node:crypto';

/** What `dev:token` puts in a development session token. */
export interface DevelopmentTokenRequest {
  email: string;
  firstName?: string;
  lastName?: string;
  /** An organization (its slug) and the caller's role in it, as Clerk's `o` claim carries them. */
  organization?: { slug: string; role: 'admin' | 'member' };
}

export const DEVELOPMENT_TOKEN_TTL_SECONDS = 3600;
export const DEVELOPMENT_TOKEN_ISSUER = 'development-sign-in';

const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');
const digest = (value: string) => createHash('sha256').update(value).digest('hex').slice(0, 24);

/**
 * A session token shaped as Clerk's v2 tokens (`sub`, `sid`, `o: {id, rol, slg}`, profile claims), signed RS256 with
 * the development key. One email is always one user (`sub` derives from it) and one slug one organization;
 * every token is a new session, so that each one is a login.
 */
export function signDevelopmentSessionToken(
  privateKeyPem: string,
  request: DevelopmentTokenRequest,
  nowMs = Date.now(),
): string {
  const now = Math.floor(nowMs / 1000);
  const email = request.email.trim().toLowerCase();
  const payload: Record<string, unknown> = {
    iss: DEVELOPMENT_TOKEN_ISSUER,
    sub: `user_dev_${digest(email)}`,
    sid: `sess_dev_${randomBytes(12).toString('hex')}`,
    iat: now,
    nbf: now - 5,
    exp: now + DEVELOPMENT_TOKEN_TTL_SECONDS,
    v: 2,
    email,
    ...(request.firstName && { first_name: request.firstName }),
    ...(request.lastName && { last_name: request.lastName }),
    ...(request.organization && {
      o: {
        id: `org_dev_${digest(request.organization.slug)}`,
        rol: request.organization.role,
        slg: request.organization.slug,
      },
    }),
  };
  const signingInput = `${base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }))}.${base64url(JSON.stringify(payload))}`;
  return `${signingInput}.${base64url(sign('RSA-SHA256', Buffer.from(signingInput), privateKeyPem))}`;
}
