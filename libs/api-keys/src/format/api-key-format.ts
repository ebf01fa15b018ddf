import { hash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * Tenant API keys: `umk_` + 32 random bytes in base62 (43 characters) + a CRC32 checksum of everything
 * before it in base62 (6 characters), 53 characters in all, e.g. `umk_3Xk…Q9a1Bc`.
 *
 * The checksum is not a secret: it lets the server refuse typos, truncations and made-up keys without
 * touching the database, and lets secret scanners recognise real keys. Base62 keeps keys selectable
 * with a double-click and safe in URLs, headers and shells.
 */
export const API_KEY_PREFIX = 'umk_';
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RANDOM_BYTES = 32;
const BODY_LENGTH = 43; // ceil(256 / log2(62))
const CHECKSUM_LENGTH = 6; // 62^6 > 2^32
export const API_KEY_LENGTH = API_KEY_PREFIX.length + BODY_LENGTH + CHECKSUM_LENGTH;
/** Characters of the key kept in clear for display: `umk_` and 8 random characters. */
const DISPLAY_PREFIX_LENGTH = API_KEY_PREFIX.length + 8;
const SHAPE = /^umk_[0-9A-Za-z]{49}$/;

export interface GeneratedApiKey {
  /** The plaintext, shown once. */
  key: string;
  /** SHA-256 (hex): what the database keeps. */
  hash: string;
  /** Public part for lists and logs. */
  prefix: string;
}

export function generateApiKey(): GeneratedApiKey {
  const body = toBase62(BigInt(`0x${randomBytes(RANDOM_BYTES).toString('hex')}`), BODY_LENGTH);
  const head = API_KEY_PREFIX + body;
  const key = head + checksumOf(head);
  return { key, hash: hashApiKey(key), prefix: key.slice(0, DISPLAY_PREFIX_LENGTH) };
}

/** True when the key has the right shape and checksum; no I/O, constant work. */
export function isWellFormedApiKey(raw: string): boolean {
  if (raw.length !== API_KEY_LENGTH || !SHAPE.test(raw)) return false;
  const head = raw.slice(0, API_KEY_LENGTH - CHECKSUM_LENGTH);
  return checksumOf(head) === raw.slice(API_KEY_LENGTH - CHECKSUM_LENGTH);
}

/** Runs on every API-key request: the one-shot `crypto.hash` costs half of a createHash/update/digest chain. */
export function hashApiKey(key: string): string {
  return hash('sha256', key, 'hex');
}

export function displayPrefixOf(key: string): string {
  return key.slice(0, DISPLAY_PREFIX_LENGTH);
}

/** CRC32 in 6 base62 digits; plain number arithmetic, as it runs on every request. */
function checksumOf(head: string): string {
  let n = crc32(head);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = ALPHABET[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

function toBase62(value: bigint, length: number): string {
  let out = '';
  let n = value;
  while (n > 0n) {
    out = ALPHABET[Number(n % 62n)] + out;
    n /= 62n;
  }
  if (out.length > length) throw new Error('Value too large for base62 field');
  return out.padStart(length, '0');
}
