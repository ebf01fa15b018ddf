import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** A journal whose owner is on another host counts as abandoned once untouched this long (its owner touches it every minute). */
export const STALE_AFTER_MS = 10 * 60_000;
const SUFFIX = '.jnl';

/** Who writes a journal: a process on a host. File names carry it: `<host>~<pid>~<nonce>~<segment>.jnl`. */
export interface JournalOwner {
  host: string;
  pid: number;
  /** Host, pid and nonce: one process's one journal. */
  id: string;
}

export function currentHost(): string {
  return hostname().replace(/[^A-Za-z0-9.-]/g, '_') || 'host';
}

export function newOwner(): JournalOwner {
  const host = currentHost();
  const pid = process.pid;
  return { host, pid, id: `${host}~${pid}~${randomBytes(4).toString('hex')}` };
}

export function segmentName(owner: JournalOwner, segment: number): string {
  return `${owner.id}~${String(segment).padStart(6, '0')}${SUFFIX}`;
}

/** The owner and segment of a journal file, or null for any other file. */
export function parseSegmentName(name: string): { owner: JournalOwner; segment: number } | null {
  if (!name.endsWith(SUFFIX)) return null;
  const parts = name.slice(0, -SUFFIX.length).split('~');
  if (parts.length !== 4) return null;
  const [host, pid, nonce, segment] = parts;
  if (!/^\d+$/.test(pid) || !/^\d+$/.test(segment) || nonce === '') return null;
  return { owner: { host, pid: Number(pid), id: `${host}~${pid}~${nonce}` }, segment: Number(segment) };
}

/**
 * Whether nobody writes a journal any more. On this host: its process is gone (or this process now has
 * its pid: a container's server is often pid 1 at every start). On another host (a shared DATA_DIR):
 * untouched for STALE_AFTER_MS.
 */
export function isAbandoned(owner: { host: string; pid: number }, lastTouchedMs: number, now = Date.now()): boolean {
  if (owner.host !== currentHost()) return now - lastTouchedMs > STALE_AFTER_MS;
  if (owner.pid === process.pid) return true;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (err) {
    // EPERM: alive, another user's.
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
