import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serverTiming } from './server-timing';

describe('serverTiming', () => {
  it('names both parts, in milliseconds rounded to three decimals', () => {
    assert.equal(serverTiming(0.41234, 12.3049), 'gateway;dur=0.412, upstream;dur=12.305');
  });

  it('drops trailing zeros and keeps whole milliseconds whole', () => {
    assert.equal(serverTiming(1.5, 250), 'gateway;dur=1.5, upstream;dur=250');
  });

  it('names the gateway alone when no upstream call was made', () => {
    assert.equal(serverTiming(3.0001, null), 'gateway;dur=3');
  });

  it('never writes a negative, sub-microsecond or non-number duration', () => {
    assert.equal(serverTiming(-0.2, 0.0000004), 'gateway;dur=0, upstream;dur=0');
    assert.equal(serverTiming(Number.NaN, null), 'gateway;dur=0');
  });
});
