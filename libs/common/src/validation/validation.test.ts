import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isIsoDateTime } from './iso-date-time';
import { scanJsonText } from './json-text-scan';
import { containsUnsafeText, isUnsafeText } from './safe-text';

function depthOf(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...children.map(depthOf));
}

describe('scanJsonText', () => {
  it('agrees with JSON.parse on depth and unsafe text, for any JSON value', () => {
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 8, stringUnit: 'binary' }),
        fc.integer({ min: 0, max: 8 }),
        (value, limit) => {
          const text = JSON.stringify(value);
          const expected =
            depthOf(value) > limit ? 'too_deep' : containsUnsafeText(JSON.parse(text), 100) ? 'unsafe_text' : null;
          const got = scanJsonText(text, limit);
          // Depth is found first when both apply and the deep part comes before the bad string.
          if (expected === null) assert.equal(got, null, text);
          else assert.notEqual(got, null, text);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('finds escaped NUL and lone surrogates, not escaped backslashes or pairs', () => {
    assert.equal(scanJsonText('{"a":"x\\u0000"}', 32), 'unsafe_text');
    assert.equal(scanJsonText('["\\ud800"]', 32), 'unsafe_text');
    assert.equal(scanJsonText('["\\udc00\\ud800"]', 32), 'unsafe_text');
    assert.equal(scanJsonText('["\\ud800x"]', 32), 'unsafe_text');
    assert.equal(scanJsonText('["\\ud800\\n"]', 32), 'unsafe_text');
    assert.equal(scanJsonText('{"\\u0000":1}', 32), 'unsafe_text');
    assert.equal(scanJsonText('["\\\\u0000"]', 32), null);
    assert.equal(scanJsonText('["\\ud83d\\ude00", "[[[[", "\\""]', 1), null);
    assert.equal(scanJsonText('[[[]]]', 2), 'too_deep');
    assert.equal(scanJsonText('[[[]]]', 3), null);
  });
});

describe('isUnsafeText', () => {
  it('refuses NUL and lone surrogates, accepts pairs', () => {
    assert.equal(isUnsafeText('a\u0000'), true);
    assert.equal(isUnsafeText('\ud800'), true);
    assert.equal(isUnsafeText('\ude00a'), true);
    assert.equal(isUnsafeText('😀 ok é'), false);
  });
});

describe('isIsoDateTime', () => {
  it('accepts extended date-times with a zone', () => {
    for (const v of [
      '2030-01-01T00:00:00Z',
      '2030-01-01T00:00Z',
      '2030-12-31T23:59:59.123+05:30',
      '2028-02-29T10:00:00-01:00',
    ])
      assert.equal(isIsoDateTime(v), true, v);
  });
  it('refuses basic format, missing zones, impossible dates and junk', () => {
    for (const v of [
      '20300101T000000Z',
      '2030-01-01T00:00:00',
      '2030-01-01',
      '2030-02-30T00:00:00Z',
      '2029-02-29T00:00:00Z',
      '2030-01-01T24:00:00Z',
      '2030-13-01T00:00:00Z',
      '2030-01-01 00:00:00Z',
      '2030-01-01T00:00:00+25:00',
      '',
      42,
      null,
    ])
      assert.equal(isIsoDateTime(v), false, String(v));
  });
  it('accepts a bare date only where allowed', () => {
    assert.equal(isIsoDateTime('2030-01-01', { dateOnly: true }), true);
    assert.equal(isIsoDateTime('2030-02-31', { dateOnly: true }), false);
  });
});
