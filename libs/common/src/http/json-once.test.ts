import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { replySerializer, serializeOnce } from './json-once';

describe('serializeOnce / replySerializer', () => {
  it('serialises a marked response once and reuses its JSON', () => {
    let reads = 0;
    const response = serializeOnce({
      get name() {
        reads++;
        return 'a';
      },
    });
    assert.equal(replySerializer(response), '{"name":"a"}');
    assert.equal(replySerializer(response), '{"name":"a"}');
    assert.equal(reads, 1, 'the second send reused the first JSON');
  });

  it('serialises anything unmarked every time, as JSON.stringify does', () => {
    const response = { n: 1 };
    assert.equal(replySerializer(response), '{"n":1}');
    response.n = 2;
    assert.equal(replySerializer(response), '{"n":2}', 'an unmarked object is never remembered');
    assert.equal(replySerializer([1, 'x']), '[1,"x"]');
    assert.equal(replySerializer(null), 'null');
  });
});
