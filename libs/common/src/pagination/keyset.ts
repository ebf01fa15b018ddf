import { AppError } from '../errors/app-error';
import { isUuid } from '../validation/uuid';

/** Pages of lists ordered newest first: `?limit=` defaults to this, and is at most PAGE_MAX. */
export const PAGE_DEFAULT = 50;
export const PAGE_MAX = 200;

/** A position in a list ordered by (created_at DESC, id DESC); the time keeps its microseconds. */
export interface KeysetPosition {
  at: string;
  id: string;
}

/** SQL for the created_at text a cursor carries (a JS Date would drop the microseconds and skip or repeat rows). */
export const CURSOR_AT_SQL = (column: string) =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** `?limit=` as a page size: PAGE_DEFAULT when absent, within 1…PAGE_MAX. */
export function pageLimit(limit: number | undefined): number {
  return Math.min(Math.max(limit ?? PAGE_DEFAULT, 1), PAGE_MAX);
}

export function encodeKeyset(p: KeysetPosition): string {
  return Buffer.from(`${p.at}|${p.id}`, 'utf8').toString('base64url');
}

export function decodeKeyset(cursor: string): KeysetPosition {
  const [at, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const validAt = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(at ?? '');
  const validId = isUuid(id);
  if (!validAt || !validId || rest.length)
    throw new AppError('invalid_cursor', 'cursor is malformed', { fields: ['cursor'] });
  return { at, id };
}

/**
 * A page from rows read with LIMIT limit + 1 (each with its `cursor_at`, see CURSOR_AT_SQL): the extra row
 * only says that there is a next page, whose cursor is the last kept row's position.
 */
export function keysetPage<R extends { id: string; cursor_at: string }, T>(
  rows: R[],
  limit: number,
  map: (r: R) => T,
): { data: T[]; next_cursor: string | null } {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const last = kept.at(-1);
  return { data: kept.map(map), next_cursor: more && last ? encodeKeyset({ at: last.cursor_at, id: last.id }) : null };
}
