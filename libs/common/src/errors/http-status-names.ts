import { STATUS_CODES } from 'node:http';

/** `error` field of the error body: the HTTP reason phrase, as Nest answers it. */
export function statusName(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}
