/** A recognisable but useless form of a secret, for logs and responses: `sk-or-v1-…b465`. */
export function maskSecret(secret: string | null | undefined): string {
  if (!secret || secret.length < 12) return '***';
  const prefix = /^(sk-or-v1-|umk_|sk-)/.exec(secret)?.[1] ?? secret.slice(0, 4);
  return `${prefix}…${secret.slice(-4)}`;
}

/** Secrets the product handles, as they can appear inside free text (error messages, URLs). */
const SECRET_PATTERNS: RegExp[] = [
  /sk-or-v1-[A-Za-z0-9]{8,}/g, // OpenRouter keys
  /umk_[A-Za-z0-9_-]{16,}/g, // tenant API keys
  /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, // JWTs (Clerk tokens)
  /whsec_[A-Za-z0-9+/=]{8,}/g, // webhook secrets
  /sk_(live|test)_[A-Za-z0-9]{8,}/g, // Clerk secret keys
];

/** Replaces every secret-looking token in a string with its masked form. */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const pattern of SECRET_PATTERNS) out = out.replace(pattern, (m) => maskSecret(m));
  return out;
}
