/** Memory of a child process as the kernel sees it (/proc/<pid>/status), with no cooperation from the child. */
import * as fs from 'node:fs';

export interface ProcessMemory {
  /** Resident set size, MiB. */
  rssMb: number;
  /** Anonymous resident memory (JS heap, malloc'd buffers: what a leak grows), MiB. */
  anonMb: number;
  /** Peak resident set size, MiB. */
  peakMb: number;
}

export function processMemory(pid: number): ProcessMemory | null {
  let status: string;
  try {
    status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, anonMb: kb('RssAnon') / 1024, peakMb: kb('VmHWM') / 1024 };
}
