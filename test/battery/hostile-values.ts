/**
 * Hostile values, as fast-check arbitraries. `Raw` stands for JSON text written into the body as is (numbers
 * JSON cannot round-trip, nesting too deep for JSON.stringify).
 */
import fc from 'fast-check';

export class Raw {
  constructor(readonly text: string) {}
}

const LONE_SURROGATES = ['\uD800', '\uDBFF', '\uDC00', '\uDFFF'];

export const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
  fc.string({ maxLength: 12 }),
);

export const withNul: fc.Arbitrary<string> = fc
  .tuple(fc.string({ maxLength: 8 }), fc.constantFrom('\u0000', '\u0000\u0000', 'a\u0000'), fc.string({ maxLength: 8 }))
  .map(([a, nul, b]) => `${a}${nul}${b}`);

export const withLoneSurrogate: fc.Arbitrary<string> = fc
  .tuple(fc.string({ maxLength: 8 }), fc.constantFrom(...LONE_SURROGATES), fc.string({ maxLength: 8 }))
  .map(([a, s, b]) => `${a}${s}${b}`);

/** Nested arrays or objects, deeper than the contract's limits (32, 64 on the OpenAI routes). */
export const deepNesting: fc.Arbitrary<Raw> = fc
  .tuple(fc.constantFrom(33, 65, 200, 3_000, 20_000), fc.constantFrom('array', 'object'))
  .map(([depth, kind]) =>
    kind === 'array'
      ? new Raw('['.repeat(depth) + ']'.repeat(depth))
      : new Raw('{"a":'.repeat(depth) + '1' + '}'.repeat(depth)),
  );

export const hugeString: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(1_000, 70_000, 400_000), fc.constantFrom('a', 'é', '😀', '\u202e'))
  .map(([n, ch]) => ch.repeat(n));

export const hugeNumber: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, -(2 ** 63), 2 ** 64, 4.9e-324, -0, 0.5, -1),
  fc
    .constantFrom('1e400', '-1e400', '123456789012345678901234567890', '1.0000000000000000000001')
    .map((t) => new Raw(t)),
);

export const badDate: fc.Arbitrary<string> = fc.constantFrom(
  '20300101T000000Z',
  '2030-13-45T00:00:00Z',
  '2030-02-30T00:00:00Z',
  '2030-01-01T00:00:00',
  '2030-01-01',
  '+275760-09-13T00:00:00.001Z',
  '-000001-01-01T00:00:00Z',
  '0000-01-01T00:00:00Z',
  '2030-01-01T24:00:01Z',
  '2030-01-01T00:00:00+25:00',
  'Invalid Date',
  '1e10',
  '',
);

/** Any string at all: arbitrary code points, control characters, and the two classics. */
export const junkString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 16 }),
  fc.constantFrom("'; DROP TABLE users; --", '${{7*7}}', '../../etc/passwd', ' ', '\r\n', '\u202e'),
);

export const unknownFieldName: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'tenant_id', 'is_platform_admin', 'id'),
  fc.string({ minLength: 1, maxLength: 12 }),
);

/** A path segment or query value, already percent-encoded. */
export const hostileParam: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    '%20',
    '%00',
    'a%00b',
    '%ZZ',
    '%E0%A4%A',
    '%ED%A0%80',
    '%C0%AF',
    'null',
    'undefined',
    '-1',
    '0',
    '1e999',
    'NaN',
    'Infinity',
    '00000000-0000-0000-0000-000000000000',
    'ffffffff-ffff-ffff-ffff-ffffffffffff',
    '%27%3B%20DROP%20TABLE%20users%3B--',
    '%F0%9F%98%80',
    'a'.repeat(5_000),
  ),
  fc.uuid().map((u) => u),
  junkString.map(percentEncode),
);

/** Percent-encodes every byte of the string's UTF-8 (lone surrogates become U+FFFD, as a browser sends them). */
export function percentEncode(value: string): string {
  return [...Buffer.from(value, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`).join('');
}

/** Header values fetch can send (a ByteString without CR, LF or NUL) that a server should still refuse. */
export const hostileHeaderValue: fc.Arbitrary<string> = fc.constantFrom(
  'not-a-uuid',
  '00000000-0000-0000-0000-000000000000',
  '\u00ff\u00fe',
  "'; DROP TABLE tenants; --",
  ' ',
  'a'.repeat(8_000),
  'a'.repeat(20_000), // over Node's header limit
  '%00',
);

export const wrongContentType: fc.Arbitrary<string> = fc.constantFrom(
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=battery',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'application/xml',
  'application/jsonp',
  'APPLICATION/JSON',
  'application/*',
  'application/octet-stream',
);

/** Bodies sent as application/json that are not the object the route expects. */
export const badJsonText: fc.Arbitrary<string | Buffer> = fc.constantFrom<string | Buffer>(
  '',
  '{',
  '[',
  'nul',
  '{"a":1,}',
  '{"a":1}{"b":2}',
  "{'a':1}",
  '\uFEFF{}',
  'null',
  '"a string"',
  '12',
  'true',
  '[]',
  '[{}]',
  Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]), // {"a":"<CESU surrogate>"}
  Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), // {"a":"<invalid UTF-8>"}
);
