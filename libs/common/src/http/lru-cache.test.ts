import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { LruCache } from './lru-cache';

describe('LruCache', () => {
  beforeEach(() => mock.timers.enable({ apis: ['Date'], now: 1_000_000 }));
  afterEach(() => mock.timers.reset());

  it('evicts the least recently used entry, recency counted to the second', () => {
    const cache = new LruCache<string, number>(2, 60_000);
    cache.set('a', 1);
    cache.set('b', 2);
    mock.timers.tick(1_000);
    assert.equal(cache.get('a'), 1); // a is now the younger of the two
    cache.set('c', 3);
    assert.deepEqual([cache.get('a'), cache.get('b'), cache.get('c')], [1, undefined, 3]);
  });

  it('does not reorder an entry hit again within the same second', () => {
    const cache = new LruCache<string, number>(2, 60_000);
    cache.set('a', 1);
    cache.set('b', 2);
    assert.equal(cache.get('a'), 1);
    cache.set('c', 3);
    assert.equal(cache.get('a'), undefined, 'a was still the oldest');
    assert.equal(cache.get('b'), 2);
  });

  it('forgets an entry once its time to live has passed', () => {
    const cache = new LruCache<string, number>(10, 5_000);
    cache.set('short', 1, 1_000);
    cache.set('default', 2);
    mock.timers.tick(1_000);
    assert.equal(cache.get('short'), undefined);
    assert.equal(cache.get('default'), 2);
    mock.timers.tick(4_000);
    assert.equal(cache.get('default'), undefined);
  });
});
