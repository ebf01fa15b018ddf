import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  API_KEY_LENGTH,
  generateApiKey,
  hashApiKey,
  isWellFormedApiKey,
} from '../libs/api-keys/src/format/api-key-format';

describe('API key format', () => {
  it('generates umk_ keys of 32 random bytes in base62 plus a 6-character checksum', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const { key, hash, prefix } = generateApiKey();
      assert.match(key, /^umk_[0-9A-Za-z]{49}$/);
      assert.equal(key.length, API_KEY_LENGTH);
      assert.equal(hash, hashApiKey(key));
      assert.match(hash, /^[0-9a-f]{64}$/);
      assert.equal(prefix, key.slice(0, 12));
      assert.ok(isWellFormedApiKey(key));
      seen.add(key);
    }
    assert.equal(seen.size, 200);
  });

  it('stores the SHA-256 of the key, in hex (what rows written by earlier releases hold)', () => {
    assert.equal(hashApiKey('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('refuses any single-character change, truncation, extension or other shape', () => {
    const { key } = generateApiKey();
    const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    for (let i = 4; i < key.length; i++) {
      const replacement = alphabet[(alphabet.indexOf(key[i]) + 1 + (i % 7)) % 62];
      const mutated = key.slice(0, i) + replacement + key.slice(i + 1);
      assert.equal(isWellFormedApiKey(mutated), false, `change at ${i}`);
    }
    assert.equal(isWellFormedApiKey(key.slice(0, -1)), false);
    assert.equal(isWellFormedApiKey(key + 'a'), false);
    assert.equal(isWellFormedApiKey(key.replace('umk_', 'umx_')), false);
    assert.equal(isWellFormedApiKey(key.slice(0, 20) + '-' + key.slice(21)), false);
    assert.equal(isWellFormedApiKey(''), false);
    assert.equal(isWellFormedApiKey('umk_' + 'a'.repeat(49)), false);
  });

  it('detects swapped adjacent characters', () => {
    const { key } = generateApiKey();
    let swaps = 0;
    for (let i = 4; i < key.length - 1; i++) {
      if (key[i] === key[i + 1]) continue;
      swaps++;
      const swapped = key.slice(0, i) + key[i + 1] + key[i] + key.slice(i + 2);
      assert.equal(isWellFormedApiKey(swapped), false, `swap at ${i}`);
    }
    assert.ok(swaps > 40);
  });
});
