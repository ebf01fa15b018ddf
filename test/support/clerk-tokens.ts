/**
 * Clerk-shaped session tokens for tests. The app verifies them networklessly with `CLERK_JWT_KEY`, so a key pair
 * made here stands in for a Clerk instance: `publicKeyPem` goes into the app's env, tokens are signed with its
 * private half.
 *
 * The pair must be RSA-2048 with exponent 65537: @clerk/backend does not parse the PEM, it cuts the modulus out
 * of the base64 text between fixed SPKI prefix and suffix strings.
 */
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

export interface ClerkOrganizationClaim {
  id: string;
  rol: string;
  slg: string;
}

export interface ClerkClaims {
  sub: string;
  sid?: string;
  azp?: string;
  email?: string;
  first_name?: string;
  last_name?: string;
  image_url?: string;
  /** Session token v2 organization claim. */
  o?: ClerkOrganizationClaim;
  /** Session token v1 organization claims. */
  org_id?: string;
  org_role?: string;
  org_slug?: string;
  exp?: number;
  nbf?: number;
  iat?: number;
  iss?: string;
  [claim: string]: unknown;
}

export interface SignOptions {
  /** Signing key; defaults to the private half of `publicKeyPem`. */
  key?: KeyObject | string;
  kid?: string;
}

export const TEST_ISSUER = 'https://clerk.test.example';
export const TEST_AUTHORIZED_PARTY = 'http://localhost:3000';

const pair = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0x10001 });

/** SPKI PEM, the value for the app's CLERK_JWT_KEY. */
export const publicKeyPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
export const privateKey: KeyObject = pair.privateKey;

let otherPrivateKey: KeyObject | undefined;

/** An RS256 JWT shaped like a Clerk v2 session token; explicit claims override the defaults. */
export function signClerkToken(claims: ClerkClaims, opts: SignOptions = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    azp: TEST_AUTHORIZED_PARTY,
    iss: TEST_ISSUER,
    iat: now,
    nbf: now - 5,
    exp: now + 600,
    sid: `sess_${randomBytes(12).toString('hex')}`,
    v: 2,
    ...claims,
  };
  const header = { alg: 'RS256', typ: 'JWT', kid: opts.kid ?? 'ins_test' };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  const signature = sign('sha256', Buffer.from(signingInput), opts.key ?? privateKey);
  return `${signingInput}.${signature.toString('base64url')}`;
}

/** Well-formed, but signed by a key the app does not trust. */
export function otherKeySignedToken(claims: ClerkClaims, opts: Omit<SignOptions, 'key'> = {}): string {
  otherPrivateKey ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  return signClerkToken(claims, { ...opts, key: otherPrivateKey });
}

/** Correctly signed, expired ten minutes ago (well past Clerk's default 5 s clock skew). */
export function expiredToken(claims: ClerkClaims, opts: SignOptions = {}): string {
  const now = Math.floor(Date.now() / 1000);
  return signClerkToken({ iat: now - 1200, nbf: now - 1205, exp: now - 600, ...claims }, opts);
}

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}
