/** A UUID's text form (any version), lower-case hex; for composing into larger patterns. */
export const UUID_PATTERN = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

const UUID = new RegExp(`^${UUID_PATTERN}$`, 'i');

/**
 * Ids in paths and cursors are checked before they reach SQL: a malformed id is simply "not found".
 * A string argument stays a string when the answer is no (a plain type guard would narrow it to `never`).
 */
export function isUuid(value: string): boolean;
export function isUuid(value: unknown): value is string;
export function isUuid(value: unknown): boolean {
  return typeof value === 'string' && UUID.test(value);
}
