import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The key pair of development sign-in: the server verifies with the public half, `dev:token` signs with the private. */
export interface DevelopmentSigningKey {
  privateKeyPem: string;
  /** SPKI PEM, used exactly as CLERK_JWT_KEY would be. */
  publicKeyPem: string;
  file: string;
}

export const DEVELOPMENT_SIGNING_KEY_FILE = 'dev-signing-key.pem';

/**
 * The development signing key under `dataDir` (which the caller has made private), created on first use.
 * RSA-2048 with exponent 65537: @clerk/backend reads only keys of that shape. Written to a temporary file and
 * linked into place, so that a server and the command line starting together agree on one key.
 */
export function loadOrCreateDevelopmentSigningKey(dataDir: string): DevelopmentSigningKey {
  const file = join(dataDir, DEVELOPMENT_SIGNING_KEY_FILE);
  if (!existsSync(file)) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    writeFileSync(tmp, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    try {
      linkSync(tmp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      unlinkSync(tmp);
    }
  }
  chmodSync(file, 0o600);
  const privateKeyPem = readFileSync(file, 'utf8');
  const publicKeyPem = createPublicKey(createPrivateKey(privateKeyPem))
    .export({ type: 'spki', format: 'pem' })
    .toString();
  return { privateKeyPem, publicKeyPem, file };
}
