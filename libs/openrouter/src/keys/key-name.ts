import { UUID_PATTERN } from '#libs/common';

/**
 * Names keys so that reconciliation can tell this installation's keys, and their user, apart:
 * `umb:<user uuid>:<installation id>:<ms>` (the user first, as in the names made before installations
 * existed, `umb:<user uuid>:<ms>`).
 */
export function keyName(installationId: string, userId: string): string {
  return `umb:${userId}:${installationId}:${Date.now()}`;
}

export interface ParsedKeyName {
  userId: string;
  /** Null for a name made before installation ids existed: it cannot be attributed to a deployment. */
  installationId: string | null;
  createdMs: number;
}

const KEY_NAME = new RegExp(`^umb:(${UUID_PATTERN}):(?:(${UUID_PATTERN}):)?(\\d+)$`);

/** The parts of a name this service made (either form), or null for any other name. */
export function parseKeyName(name: string): ParsedKeyName | null {
  const m = KEY_NAME.exec(name);
  return m ? { userId: m[1], installationId: m[2] ?? null, createdMs: Number(m[3]) } : null;
}
