import { AppError } from '#libs/common';

/** A position in a list ordered by (created_at DESC, id DESC); the time keeps its microseconds. */
export interface KeysetPosition {
  at: string;
  id: string;
}

/** SQL for the created_at text a cursor carries (a JS Date would drop the microseconds). */
export const CURSOR_AT_SQL = (column: string) =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export function encodeKeyset(p: KeysetPosition): string {
  return Buffer.from(`${p.at}|${p.id}`, 'utf8').toString('base64url');
}

export function decodeKeyset(cursor: string): KeysetPosition {
  const [at, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const validAt = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(at ?? '');
  const validId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id ?? '');
  if (!validAt || !validId || rest.length)
    throw new AppError('invalid_cursor', 'cursor is malformed', { fields: ['cursor'] });
  return { at, id };
}
