import { randomUUID } from 'node:crypto';
import { signClerkToken, type ClerkClaims } from './clerk-tokens';

/** A distinct Clerk user per call, so tests sharing an app never see each other's rows. */
export function newClerkUser(overrides: Partial<ClerkClaims> = {}): ClerkClaims & { sub: string; email: string } {
  const id = randomUUID().replace(/-/g, '').slice(0, 16);
  return {
    sub: `user_${id}`,
    email: `${id}@example.test`,
    first_name: 'Ada',
    last_name: 'Lovelace',
    ...overrides,
  } as ClerkClaims & { sub: string; email: string };
}

/** Authorization header of a fresh session (new `sid`) of the user: each call is a new login. */
export function sessionHeaders(
  user: ClerkClaims,
  extra: Partial<ClerkClaims> = {},
  headers: Record<string, string> = {},
): Record<string, string> {
  const sid = `sess_${randomUUID().replace(/-/g, '')}`;
  return { authorization: `Bearer ${signClerkToken({ ...user, sid, ...extra })}`, ...headers };
}

/** Headers that keep reusing one session (no new login). */
export function fixedSession(user: ClerkClaims, extra: Partial<ClerkClaims> = {}): () => Record<string, string> {
  const token = signClerkToken({ ...user, sid: `sess_${randomUUID().replace(/-/g, '')}`, ...extra });
  return () => ({ authorization: `Bearer ${token}` });
}
