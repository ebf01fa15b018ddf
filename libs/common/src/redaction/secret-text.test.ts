import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { looksLikeCredential, scrubSecrets } from './secret-text';

const TENANT_KEY = `umk_${'3Xk9'.repeat(12)}Q9a1Bc`;
const OPENROUTER_KEY = `sk-or-v1-${'0123456789abcdef'.repeat(4)}`;
const OTHER_KEY = 'sk-proj-AbCdEfGhIjKlMnOpQrStUv';
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyXzEyMyJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
const UNSIGNED_JWT = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1c2VyXzEyMyJ9.';

describe('scrubSecrets', () => {
  it('masks every credential shape the product handles, wherever it sits in the text', () => {
    const cases: [string, string][] = [
      [`/api/v1/models/${TENANT_KEY}`, TENANT_KEY],
      [`/api/v1/models/xxxx${TENANT_KEY}`, TENANT_KEY],
      [`/x/openai${OPENROUTER_KEY}`, OPENROUTER_KEY],
      [`/api/tenants/x?key=${OPENROUTER_KEY}&a=1`, OPENROUTER_KEY],
      [`upstream said: bad key ${OTHER_KEY}.`, OTHER_KEY],
      [`token ${JWT} expired`, JWT],
      [`token ${UNSIGNED_JWT}`, UNSIGNED_JWT],
      ['Authorization: Bearer opaque-token-1234567890', 'opaque-token-1234567890'],
      ['/api/x?auth=Bearer%20opaque-token-1234567890', 'opaque-token-1234567890'],
      ['authorization=bearer+opaque-token-1234567890', 'opaque-token-1234567890'],
      [`secret whsec_${'A'.repeat(32)}`, 'A'.repeat(32)],
      [`clerk sk_live_${'B'.repeat(24)}`, 'B'.repeat(24)],
    ];
    for (const [text, secret] of cases) {
      const scrubbed = scrubSecrets(text);
      assert.ok(!scrubbed.includes(secret), `${secret} left in ${scrubbed}`);
      assert.ok(scrubbed.includes('…') || scrubbed.includes('***'), `a masked form in ${scrubbed}`);
    }
    assert.equal(scrubSecrets(`/api/v1/models/${TENANT_KEY}`), `/api/v1/models/umk_…a1Bc`);
    assert.equal(scrubSecrets(`key ${OPENROUTER_KEY}`), 'key sk-or-v1-…cdef');
    assert.equal(scrubSecrets(`Bearer ${JWT}`), `Bearer eyJh…${JWT.slice(-4)}`);
  });

  it('leaves ordinary text alone', () => {
    for (const text of [
      '/api/tenants/2b6c1f7e-0000-4000-8000-000000000000/api-keys',
      'disk-usage-monitoring-for-everyone',
      'task-0123456789abcdefghij',
      'the key prefix umk_AbCdEfGh',
      'model openai/gpt-4o-mini',
      'file.name.json',
      'Malformed Authorization header (expected "Bearer <token>")',
      'A Clerk session token is required (Authorization: Bearer)',
    ])
      assert.equal(scrubSecrets(text), text);
  });
});

describe('looksLikeCredential', () => {
  it('recognises keys and tokens by their start or their JWT shape', () => {
    for (const value of [
      TENANT_KEY,
      'umk_short',
      OPENROUTER_KEY,
      'sk-anything',
      'SK-upper',
      UNSIGNED_JWT,
      'a.b.c',
      JWT,
    ])
      assert.ok(looksLikeCredential(value), value);
  });

  it('accepts ordinary identifiers', () => {
    for (const value of ['req-123', '2b6c1f7e-0000-4000-8000-000000000000', 'trace:span:1', 'a.b', 'desk-12'])
      assert.ok(!looksLikeCredential(value), value);
  });
});
