/** Prefix kept visible for OpenRouter keys (`sk-or-v1-`, or a later `sk-or-vN-`). */
const OPENROUTER_PREFIX = /^sk-or-v\d+-/;
const GENERIC_PREFIX_LENGTH = 6;
const SUFFIX_LENGTH = 4;
/** At least this many characters must stay hidden, else the mask would reveal most of the key. */
const MIN_HIDDEN = 8;

/**
 * A recognisable but useless form of a key for logs, errors and responses: `sk-or-v1-…b465`.
 * Empty or short values become `***`.
 */
export function maskKey(key: string | null | undefined): string {
  if (typeof key !== 'string' || key.length === 0) return '***';
  const prefix = OPENROUTER_PREFIX.exec(key)?.[0] ?? key.slice(0, GENERIC_PREFIX_LENGTH);
  if (key.length < prefix.length + SUFFIX_LENGTH + MIN_HIDDEN) return '***';
  return `${prefix}…${key.slice(-SUFFIX_LENGTH)}`;
}
