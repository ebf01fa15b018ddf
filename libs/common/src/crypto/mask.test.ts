import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maskSecret } from './mask';

const OPENROUTER_KEY = 'sk-or-v1-user1111111111111111111111111111111111111111111111111111111b465';
const TENANT_KEY = 'umk_abcdefghijklmnopqrstuvwxyz1234';

describe('maskSecret', () => {
  it('keeps the OpenRouter prefix (any version) and the last 4 characters', () => {
    assert.equal(maskSecret(OPENROUTER_KEY), 'sk-or-v1-…b465');
    assert.equal(maskSecret('sk-or-v2-abcdefghijklmnop9876'), 'sk-or-v2-…9876');
  });
  it('keeps only the known prefix of tenant and other sk- keys, nothing of their secret part', () => {
    assert.equal(maskSecret(TENANT_KEY), 'umk_…1234');
    assert.equal(maskSecret('sk-ant-abcdefghijklmnop5678'), 'sk-…5678');
  });
  it('keeps 4 leading characters of a secret without a known prefix', () => {
    assert.equal(maskSecret('eyJhbGciOiJIUzI1NiJ9.payload.signature'), 'eyJh…ture');
  });
  it('hides short, empty and missing values entirely', () => {
    assert.equal(maskSecret(''), '***');
    assert.equal(maskSecret(null), '***');
    assert.equal(maskSecret(undefined), '***');
    assert.equal(maskSecret('short'), '***');
    assert.equal(maskSecret('abcdefghijkl'), '***', 'would show 8 of 12 characters');
  });
  it('hides at least 8 characters, else shows nothing', () => {
    assert.equal(maskSecret('sk-or-v1-abcd1234'), '***');
    assert.equal(maskSecret('umk_abcdefg1234'), '***');
    assert.equal(maskSecret('umk_abcdefgh1234'), 'umk_…1234');
  });
  it('shows nothing but a leading prefix and the last 4 characters', () => {
    for (const secret of [OPENROUTER_KEY, TENANT_KEY, 'whsec_abcdefghijklmnopqrstuvwx', 'sk_live_abcdefghijkl0000']) {
      const [shown, suffix, ...rest] = maskSecret(secret).split('…');
      assert.equal(rest.length, 0);
      assert.equal(suffix, secret.slice(-4));
      assert.ok(secret.startsWith(shown) && shown.length <= 9, shown);
      assert.ok(secret.length - shown.length - suffix.length >= 8, 'at least 8 characters hidden');
    }
  });
});
