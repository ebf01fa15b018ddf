/** A recognisable but useless form of a secret, for logs and responses: `sk-or-v1-…b465`. */
export function maskSecret(secret: string | null | undefined): string {
  if (!secret || secret.length < 12) return '***';
  const prefix = /^(sk-or-v1-|umk_|sk-)/.exec(secret)?.[1] ?? secret.slice(0, 4);
  return `${prefix}…${secret.slice(-4)}`;
}
