import { maskSecret } from '../crypto/mask';

/**
 * Secrets the product handles, as they appear inside free text (error messages, URLs, log lines). One
 * alternation, so that a string is scanned once:
 * - `Bearer <token>`: whatever token follows the scheme is a credential, whatever its shape (the scheme
 *   also `%20` or `+` encoded, as in a URL);
 * - `umk_…`: tenant API keys, `sk-or-…`: OpenRouter keys (the users' and the provisioning key), wherever
 *   they start, even glued to other text;
 * - `sk-…`: other providers' keys, where `sk-` does not follow a letter or digit (`disk-usage-…` is no key);
 * - JWTs (Clerk session tokens): base64url JSON header, payload, signature (empty for `alg: none`);
 * - `whsec_…` webhook secrets and Clerk's `sk_live_…` / `sk_test_…` secret keys.
 */
const SECRET_TEXT =
  /[Bb][Ee][Aa][Rr][Ee][Rr](?:\s|%20|\+)+[A-Za-z0-9._~+/-]{8,}=*|(?:umk_|sk-or-)[A-Za-z0-9_-]{16,}|(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{16,}|whsec_[A-Za-z0-9+/=]{8,}|sk_(?:live|test)_[A-Za-z0-9]{8,}|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g;
/** What every alternative above starts with: most text has none, and is returned after this one test. */
const MAYBE_SECRET = /sk[-_]|umk_|eyJ|whsec_|bearer/i;
const BEARER = /^bearer(?:\s|%20|\+)+/i;

function masked(match: string): string {
  const scheme = BEARER.exec(match);
  return scheme ? `Bearer ${maskSecret(match.slice(scheme[0].length))}` : maskSecret(match);
}

/** Replaces every secret-looking token in a string with its masked form (`sk-or-v1-…b465`, `umk_…Q9a1`). */
export function scrubSecrets(text: string): string {
  return MAYBE_SECRET.test(text) ? text.replace(SECRET_TEXT, masked) : text;
}

/** Text that starts like a credential, or is shaped like a JWT (three base64url parts): never an identifier. */
const CREDENTIAL_SHAPED = /^(?:umk_|sk[-_]|whsec_|eyJ|bearer)|^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/i;

/** True for a value that may be a credential in its own right (a request id a client set to its API key). */
export function looksLikeCredential(value: string): boolean {
  return CREDENTIAL_SHAPED.test(value);
}
