import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/** Current stored form: `v2.<key id>.<iv>.<tag>.<ciphertext>`, bound to its row by associated data. */
const VERSION = 'v2';
/** The first form: `v1.<iv>.<tag>.<ciphertext>`, without associated data. Read, never written. */
const LEGACY_VERSION = 'v1';
const FINGERPRINT_LABEL = 'user-management-backend/encryption-key-fingerprint/v1';
/** Hex characters of the fingerprint kept in each ciphertext to name the key that sealed it. */
const KEY_ID_LENGTH = 12;

/** A stored secret that cannot be opened: another key, another row, or tampered with. */
export class SealedSecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SealedSecretError';
  }
}

/** Why a key is unusable, or null when it is a proper 32-byte key. */
export function encryptionKeyProblem(key: Buffer): string | null {
  if (key.length !== 32) return 'must decode to exactly 32 bytes (base64)';
  if (key.every((b) => b === key[0])) return 'must be random bytes, not one byte repeated';
  return null;
}

/**
 * HMAC-SHA256 of a fixed label under the key: identifies a key (stored in the database, checked at
 * start-up) without revealing anything about it.
 */
export function keyFingerprint(key: Buffer): string {
  return createHmac('sha256', key).update(FINGERPRINT_LABEL).digest('hex');
}

interface KeyEntry {
  key: Buffer;
  id: string;
  fingerprint: string;
}

function entry(key: Buffer, name: string): KeyEntry {
  const problem = encryptionKeyProblem(key);
  if (problem) throw new Error(`${name} ${problem}`);
  const fingerprint = keyFingerprint(key);
  return { key, id: fingerprint.slice(0, KEY_ID_LENGTH), fingerprint };
}

/**
 * AES-256-GCM for third-party keys that must be used again (so they cannot be hashed). Each value is
 * sealed with associated data naming its row and column, so a ciphertext copied to another row does
 * not open; it carries the id of the key that sealed it, so that a rotation (current key plus the
 * previous one) knows which to use and which values still need re-sealing.
 */
export class SecretBox {
  private readonly current: KeyEntry;
  private readonly previous: KeyEntry | null;

  constructor(key: Buffer, previousKey?: Buffer | null) {
    this.current = entry(key, 'ENCRYPTION_KEY');
    this.previous = previousKey ? entry(previousKey, 'ENCRYPTION_KEY_PREVIOUS') : null;
  }

  get fingerprint(): string {
    return this.current.fingerprint;
  }

  get previousFingerprint(): string | null {
    return this.previous?.fingerprint ?? null;
  }

  /** The prefix of every value sealed with the current key: anything else needs re-sealing. */
  get currentPrefix(): string {
    return `${VERSION}.${this.current.id}.`;
  }

  /** `aad` names the value's place, e.g. `openrouter_keys.key_encrypted:<user id>`. */
  seal(plaintext: string, aad: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [
      VERSION,
      this.current.id,
      ...[iv, cipher.getAuthTag(), ciphertext].map((b) => b.toString('base64url')),
    ].join('.');
  }

  /** Opens a value sealed for `aad` (or a legacy value, sealed before values were bound to rows). */
  open(stored: string, aad: string): string {
    const parts = stored.split('.');
    if (parts[0] === VERSION && parts.length === 5) {
      const [, id, iv, tag, ciphertext] = parts;
      const key = [this.current, this.previous].find((k) => k?.id === id);
      if (!key) throw new SealedSecretError('Secret sealed with an encryption key this server does not have');
      return decrypt(key.key, iv, tag, ciphertext, aad);
    }
    if (parts[0] === LEGACY_VERSION && parts.length === 4) {
      const [, iv, tag, ciphertext] = parts;
      for (const key of [this.current, this.previous]) {
        if (!key) continue;
        try {
          return decrypt(key.key, iv, tag, ciphertext, null);
        } catch {
          // try the other key
        }
      }
      throw new SealedSecretError('Secret cannot be opened with the configured encryption keys');
    }
    throw new SealedSecretError('Unknown encrypted value format');
  }

  /** True when the value is sealed with the current key and bound to its row. */
  isCurrent(stored: string): boolean {
    return stored.startsWith(this.currentPrefix);
  }
}

function decrypt(key: Buffer, iv: string, tag: string, ciphertext: string, aad: string | null): string {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    if (aad !== null) decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new SealedSecretError('Secret cannot be opened: wrong key, or it belongs to another row');
  }
}
