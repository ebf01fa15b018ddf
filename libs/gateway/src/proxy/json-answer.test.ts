import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readJsonAnswer, usageFromTail } from './json-answer';

const usage = { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18, cost: 0.0003 };

describe('reading a JSON answer relayed as bytes', () => {
  it('reads usage from the tail and the model from the head without parsing the rest', () => {
    const body = {
      id: 'gen-1',
      model: 'openai/gpt-4o-mini',
      choices: [{ message: { content: 'says "usage": {"total_tokens": 999} inside a string' } }],
      usage: { ...usage, prompt_tokens_details: { cached_tokens: 0 } },
    };
    const facts = readJsonAnswer(Buffer.from(JSON.stringify(body, null, 2)));
    assert.deepEqual(facts, {
      usage: { promptTokens: 11, completionTokens: 7, totalTokens: 18, cost: 0.0003 },
      model: 'openai/gpt-4o-mini',
      valid: true,
    });
  });

  it('finds usage after a large embedding (only the tail is read)', () => {
    const data = [{ object: 'embedding', index: 0, embedding: Array.from({ length: 3000 }, (_, i) => i / 3000) }];
    const bytes = Buffer.from(JSON.stringify({ object: 'list', data, model: 'm/e', usage }));
    assert.ok(bytes.length > 20_000);
    assert.equal(usageFromTail(bytes)?.totalTokens, 18);
    assert.equal(readJsonAnswer(bytes).model, 'm/e');
  });

  it('parses the answer whole when its tail holds no usage, and tells non-JSON apart', () => {
    const error = readJsonAnswer(Buffer.from('{"error":{"code":502,"message":"x"},"model":"a/b"}'));
    assert.deepEqual([error.usage, error.model, error.valid], [null, 'a/b', true]);
    assert.deepEqual(error.parsed, { error: { code: 502, message: 'x' }, model: 'a/b' });
    // A string that merely mentions usage is escaped inside JSON: not mistaken for the key.
    assert.equal(usageFromTail(Buffer.from(JSON.stringify({ text: '"usage": {"total_tokens": 5}' }))), null);
    assert.equal(readJsonAnswer(Buffer.from('<html>bad gateway</html>')).valid, false);
    assert.equal(usageFromTail(Buffer.from('{"usage": {"total_tokens": 5')), null, 'a cut object is not read');
    const early = Buffer.from(JSON.stringify({ usage, data: 'x'.repeat(5000) }));
    assert.equal(usageFromTail(early), null, 'usage more than 4 KiB before the end is not looked for');
    const model = Buffer.from(JSON.stringify({ id: 'é'.repeat(400), object: 'model', model: 'a/b', usage }));
    assert.equal(readJsonAnswer(model).model, 'a/b', 'found past multi-byte text, within the head');
  });
});
