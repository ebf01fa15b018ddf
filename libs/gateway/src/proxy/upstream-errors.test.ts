import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { statusOf } from '#libs/common';
import { upstreamStatusFailure } from './upstream-errors';

describe("OpenRouter's error answers as the gateway's errors", () => {
  it('keeps the status of each refusal under a catalogue code of that very status, never reusing a code', () => {
    const seen = new Map<string, number>();
    for (const status of [400, 401, 402, 403, 404, 413, 422, 429]) {
      const err = upstreamStatusFailure(status, { error: { code: status, message: `refused ${status}` } });
      assert.equal(err.status, status, err.code);
      assert.equal(statusOf(err.code), status, err.code);
      assert.match(err.code, /^upstream_[a-z_]+$/);
      assert.equal(err.message, `refused ${status}`, "OpenRouter's message kept");
      assert.equal(seen.get(err.code), undefined, `${err.code} answers one status`);
      seen.set(err.code, status);
    }
  });

  it('answers an unlisted 4xx as a 400, and its failures as 502 / 504', () => {
    assert.deepEqual(pick(upstreamStatusFailure(409, { error: { message: 'conflict' } })), [
      400,
      'upstream_bad_request',
    ]);
    assert.deepEqual(pick(upstreamStatusFailure(500, null)), [502, 'upstream_error']);
    assert.deepEqual(pick(upstreamStatusFailure(503, '<html>')), [502, 'upstream_error']);
    assert.deepEqual(pick(upstreamStatusFailure(408, null)), [504, 'upstream_timeout']);
    assert.deepEqual(pick(upstreamStatusFailure(504, null)), [504, 'upstream_timeout']);
  });

  it("scrubs secrets from OpenRouter's message, passes a sane Retry-After on and no body of its own", () => {
    const key = `sk-or-v1-${'a'.repeat(64)}`;
    const err = upstreamStatusFailure(429, { error: { code: 429, message: `key ${key} is rate limited` } }, '30');
    assert.doesNotMatch(err.message, new RegExp(key));
    assert.deepEqual(err.headers, { 'retry-after': '30' });
    assert.equal(upstreamStatusFailure(429, null, 'x\r\ny').headers, undefined);
    assert.equal(upstreamStatusFailure(402, null).message, 'OpenRouter refused the request (HTTP 402)');
  });
});

function pick(err: { status: number; code: string }): [number, string] {
  return [err.status, err.code];
}
