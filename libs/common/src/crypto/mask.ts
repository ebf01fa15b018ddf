/** Prefixes that say what kind of secret it is: OpenRouter keys (`sk-or-v1-`, or a later `sk-or-vN-`), tenant keys, other `sk-` keys. */
const KNOWN_PREFIX = /^(?:sk-or-v\d+-|umk_|sk-)/;
/** Shown from the start of a secret without a known prefix. */
const GENERIC_PREFIX_LENGTH = 4;
const SUFFIX_LENGTH = 4;
/** At least this many characters stay hidden, else the mask would reveal most of the secret. */
const MIN_HIDDEN = 8;

/**
 * A recognisable but useless form of a secret for logs, errors and responses: `sk-or-v1-…b465`, `umk_…Q9a1`.
 * Only the prefix and the last 4 characters are shown; empty or short values become `***`.
 */
export function maskSecret(secret: string | null | undefined): string {
  if (typeof secret !== 'string' || secret.length === 0) return '***';
  const prefix = KNOWN_PREFIX.exec(secret)?.[0] ?? secret.slice(0, GENERIC_PREFIX_LENGTH);
  if (secret.length < prefix.length + SUFFIX_LENGTH + MIN_HIDDEN) return '***';
  return `${prefix}…${secret.slice(-SUFFIX_LENGTH)}`;
}
