/** Assertions shared by the budget tests. */
import assert from 'node:assert/strict';

/** A 429 in OpenAI's shape with type insufficient_quota and the given code. */
export function assertRefused(status: number, body: any, code: string): void {
  assert.equal(status, 429, JSON.stringify(body));
  assert.equal(body.error.type, 'insufficient_quota');
  assert.equal(body.error.code, code);
  assert.equal(typeof body.error.message, 'string');
}

/** Close enough for sums of binary fractions; the counters themselves are integers of micro-dollars. */
export function assertUsd(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual} != ${expected}`);
}
