import { scrubSecrets } from './secret-text';

/** Things in an error's text that identify a person or a key: emails, SHA-256 hex (key hashes), key prefixes. */
const EMAIL = /[^\s"'()<>,;:@]+@[^\s"'()<>,;:@]+\.[A-Za-z]{2,}/g;
const HEX_DIGEST = /\b[0-9a-fA-F]{40,}\b/g;
const TENANT_KEY = /\bumk_[A-Za-z0-9]*/g;
/** PostgreSQL's `detail`: `Key (email)=(ada@example.com) already exists.` */
const KEY_VALUES = /=\((.*?)\)(?=\s|$|\.)/g;

export function redactErrorText(text: string): string {
  return scrubSecrets(text)
    .replace(KEY_VALUES, '=([redacted])')
    .replace(EMAIL, '[email]')
    .replace(TENANT_KEY, 'umk_[redacted]')
    .replace(HEX_DIGEST, '[digest]');
}

/**
 * What an error log line may show of an unexpected error: its type, message, stack, codes and SQL text,
 * scrubbed; never the query's parameters (a key hash, a prefix, an email) nor the values PostgreSQL quotes
 * in `detail`. Pass this, not the error, to the logger.
 */
export function loggableError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: redactErrorText(String(err)) };
  const e = err as Error & {
    code?: unknown;
    query?: unknown;
    parameters?: unknown;
    detail?: unknown;
    constraint?: unknown;
    table?: unknown;
    column?: unknown;
  };
  const out: Record<string, unknown> = {
    type: e.name,
    message: redactErrorText(e.message),
    stack: e.stack ? redactErrorText(e.stack) : undefined,
  };
  if (typeof e.code === 'string' || typeof e.code === 'number') out.code = e.code;
  if (typeof e.query === 'string') out.query = redactErrorText(e.query);
  if (Array.isArray(e.parameters)) out.parameters = `[${e.parameters.length} redacted]`;
  if (typeof e.detail === 'string') out.detail = redactErrorText(e.detail);
  for (const name of ['constraint', 'table', 'column'] as const) if (typeof e[name] === 'string') out[name] = e[name];
  if (err.cause !== undefined && err.cause !== err) out.cause = loggableError(err.cause);
  return out;
}
