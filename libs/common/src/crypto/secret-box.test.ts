import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { encryptionKeyProblem, keyFingerprint, SealedSecretError, SecretBox } from './secret-box';
import { resealStaleValues, type StaleValue } from './sealed-column';

const ROW_A = 'openrouter_keys.key_encrypted:11111111-1111-4111-8111-111111111111';
const ROW_B = 'openrouter_keys.key_encrypted:22222222-2222-4222-8222-222222222222';

/** The format sealed before values were bound to rows (no associated data), as the first release wrote it. */
function legacySeal(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv, cipher.getAuthTag(), ciphertext]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

describe('SecretBox', () => {
  const key = randomBytes(32);
  const box = new SecretBox(key);

  it('opens what it sealed for the same row', () => {
    const sealed = box.seal('sk-or-v1-secret', ROW_A);
    assert.ok(!sealed.includes('sk-or-v1-secret'));
    assert.equal(box.open(sealed, ROW_A), 'sk-or-v1-secret');
    assert.ok(box.isCurrent(sealed));
  });

  it('refuses a ciphertext moved to another row', () => {
    const sealed = box.seal('sk-or-v1-secret', ROW_A);
    assert.throws(() => box.open(sealed, ROW_B), SealedSecretError);
  });

  it('refuses a tampered ciphertext and one sealed with another key', () => {
    const sealed = box.seal('sk-or-v1-secret', ROW_A);
    const parts = sealed.split('.');
    const flipped = Buffer.from(parts[4], 'base64url');
    flipped[0] ^= 1;
    parts[4] = flipped.toString('base64url');
    assert.throws(() => box.open(parts.join('.'), ROW_A), SealedSecretError);
    assert.throws(() => new SecretBox(randomBytes(32)).open(sealed, ROW_A), SealedSecretError);
  });

  it('reads legacy values sealed without associated data, and reports them as not current', () => {
    const legacy = legacySeal(key, 'sk-or-v1-old');
    assert.equal(box.open(legacy, ROW_A), 'sk-or-v1-old');
    assert.equal(box.isCurrent(legacy), false);
  });

  it('rotates: reads values sealed with the previous key, seals with the new one', () => {
    const next = randomBytes(32);
    const rotating = new SecretBox(next, key);
    const old = box.seal('sk-or-v1-a', ROW_A);
    assert.equal(rotating.open(old, ROW_A), 'sk-or-v1-a');
    assert.equal(rotating.isCurrent(old), false);
    const resealed = rotating.seal('sk-or-v1-a', ROW_A);
    assert.ok(rotating.isCurrent(resealed));
    assert.equal(new SecretBox(next).open(resealed, ROW_A), 'sk-or-v1-a', 'the previous key is no longer needed');
    assert.throws(() => box.open(resealed, ROW_A), SealedSecretError);
    assert.equal(rotating.previousFingerprint, keyFingerprint(key));
    assert.equal(rotating.fingerprint, keyFingerprint(next));
  });

  it('refuses keys of the wrong length or of one repeated byte', () => {
    assert.equal(encryptionKeyProblem(randomBytes(32)), null);
    assert.match(encryptionKeyProblem(Buffer.alloc(32))!, /repeated/);
    assert.match(encryptionKeyProblem(Buffer.alloc(32, 0xab))!, /repeated/);
    assert.match(encryptionKeyProblem(randomBytes(16))!, /32 bytes/);
    assert.throws(() => new SecretBox(Buffer.alloc(32, 7)), /ENCRYPTION_KEY must be random/);
    assert.throws(() => new SecretBox(randomBytes(32), Buffer.alloc(32)), /ENCRYPTION_KEY_PREVIOUS/);
  });

  it('fingerprints without revealing the key', () => {
    const fp = keyFingerprint(key);
    assert.match(fp, /^[0-9a-f]{64}$/);
    assert.ok(!fp.includes(key.toString('hex')));
    assert.notEqual(fp, keyFingerprint(randomBytes(32)));
  });
});

describe('resealStaleValues', () => {
  it('re-seals what opens, counts what does not, and pages past both', async () => {
    const oldKey = randomBytes(32);
    const box = new SecretBox(randomBytes(32), oldKey);
    const stored = new Map<string, string>();
    for (let i = 0; i < 450; i++) {
      const id = String(i).padStart(4, '0');
      stored.set(id, i % 3 === 0 ? legacySeal(oldKey, `k${i}`) : new SecretBox(oldKey).seal(`k${i}`, `row:${id}`));
    }
    stored.set('9999', legacySeal(randomBytes(32), 'foreign'));
    const next = async (after: string | null, limit: number): Promise<StaleValue[]> =>
      [...stored.entries()]
        .filter(([id, v]) => !box.isCurrent(v) && (after === null || id > after))
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .slice(0, limit)
        .map(([id, v]) => ({ cursor: id, stored: v, aad: `row:${id}` }));
    const count = await resealStaleValues(box, 't.c', next, async (value, sealed) => {
      stored.set(value.cursor, sealed);
      return true;
    });
    assert.deepEqual(count, { column: 't.c', stale: 451, resealed: 450, failed: 1 });
    for (const [id, v] of stored) {
      if (id === '9999') continue;
      assert.ok(box.isCurrent(v), id);
      assert.equal(box.open(v, `row:${id}`), `k${Number(id)}`);
    }
  });
});
