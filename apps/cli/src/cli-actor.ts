import { hostname, userInfo } from 'node:os';
import type { AuditActor } from '#libs/audit';

/** Audit actor of the command line: the operating-system account and host it ran from. */
export function cliActor(): AuditActor {
  let user = 'operator';
  try {
    user = userInfo().username || user;
  } catch {
    // No passwd entry (some containers): keep the generic name.
  }
  return { type: 'cli', id: `${user}@${hostname()}`.slice(0, 200) };
}
