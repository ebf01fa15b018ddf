import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { QueryFailedError } from 'typeorm';
import { loggableError } from './loggable-error';

describe('loggableError', () => {
  it('drops SQL parameters and redacts emails, key hashes and key prefixes of a QueryFailedError', () => {
    const hash = createHash('sha256').update('umk_secret').digest('hex');
    const driverError = Object.assign(new Error('duplicate key value violates unique constraint "users_email_key"'), {
      code: '23505',
      detail: 'Key (email)=(ada.lovelace@example.com) already exists.',
      constraint: 'users_email_key',
    });
    const err = new QueryFailedError(
      'INSERT INTO "api_keys"("key_hash", "prefix", "email") VALUES ($1, $2, $3)',
      [hash, 'umk_AbCdEfGh', 'ada.lovelace@example.com'],
      driverError,
    );
    const logged = JSON.stringify(loggableError(err));
    for (const secret of [hash, 'umk_AbCdEfGh', 'ada.lovelace@example.com', 'AbCdEfGh'])
      assert.ok(!logged.includes(secret), `${secret} in ${logged}`);
    const out = loggableError(err);
    assert.equal(out.parameters, '[3 redacted]');
    assert.equal(out.code, '23505');
    assert.equal(out.constraint, 'users_email_key');
    assert.match(String(out.query), /INSERT INTO "api_keys"/);
    assert.match(String(out.detail), /Key \(email\)=\(\[redacted\]\)/);
  });

  it('redacts the same shapes in any error message', () => {
    const out = loggableError(new Error('no user bob@example.org for umk_1234567890ab'));
    assert.equal(out.message, 'no user [email] for umk_[redacted]');
  });
});
