import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { isAcceptableRequestId, requestIdFor } from './request-id';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const withId = (id: string | string[] | undefined) =>
  ({ headers: { 'x-request-id': id } }) as unknown as IncomingMessage;

describe('request ids', () => {
  it('echoes a short id of plain characters', () => {
    for (const id of ['abc-123', 'trace:0af7651916cd43dd8448eb211c80319c', 'a.b', 'x'.repeat(64)])
      assert.equal(requestIdFor(withId(id)), id);
    assert.equal(requestIdFor(withId(['first-id', 'second-id'])), 'first-id');
  });

  it('replaces credentials, long ids and other characters with a new id', () => {
    const refused = [
      `umk_${'A'.repeat(49)}`,
      'umk_short',
      `sk-or-v1-${'a'.repeat(20)}`,
      'sk-abc',
      'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1In0.',
      'aaaa.bbbb.cccc',
      'x'.repeat(65),
      'has space',
      'semi;colon',
      'slash/y',
      'quote"',
      'caf\u00e9',
      '',
    ];
    for (const id of refused) {
      assert.ok(!isAcceptableRequestId(id), id);
      assert.match(requestIdFor(withId(id)), UUID, id);
    }
    assert.match(requestIdFor(withId(undefined)), UUID);
  });
});
