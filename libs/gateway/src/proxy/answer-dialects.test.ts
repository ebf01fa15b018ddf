import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SseUsageParser } from '../chat/sse-usage.parser';
import { ANTHROPIC_MESSAGES_DIALECT, RESPONSES_DIALECT } from './answer-dialects';
import { readJsonAnswer } from './json-answer';

const event = (data: Record<string, unknown>) => `event: ${String(data.type)}\ndata: ${JSON.stringify(data)}\n\n`;

describe('Responses API dialect', () => {
  it('reads usage from the response.completed event, text from the deltas, whatever the chunking', () => {
    const stream = [
      ': OPENROUTER PROCESSING\n\n',
      event({ type: 'response.created', response: { model: 'openai/gpt-4o-mini', usage: null } }),
      event({ type: 'response.output_text.delta', delta: 'hel' }),
      event({ type: 'response.output_text.delta', delta: 'lo' }),
      event({
        type: 'response.completed',
        response: {
          model: 'openai/gpt-4o-mini',
          usage: { input_tokens: 7, output_tokens: 5, total_tokens: 12, cost: 0.002 },
        },
      }),
    ].join('');
    for (const size of [1, 7, stream.length]) {
      const p = new SseUsageParser(RESPONSES_DIALECT);
      for (let i = 0; i < stream.length; i += size) p.push(stream.slice(i, i + size));
      p.end();
      assert.deepEqual(p.usage, { promptTokens: 7, completionTokens: 5, totalTokens: 12, cost: 0.002 }, `${size}`);
      assert.deepEqual([p.model, p.contentChars, p.error], ['openai/gpt-4o-mini', 5, null]);
    }
  });

  it('keeps the error of an error or response.failed event', () => {
    const p = new SseUsageParser(RESPONSES_DIALECT);
    p.push(event({ type: 'error', code: 'rate_limit_exceeded', message: 'slow down' }));
    assert.deepEqual(p.error, { code: 'rate_limit_exceeded', message: 'slow down' });
    const failed = new SseUsageParser(RESPONSES_DIALECT);
    failed.push(event({ type: 'response.failed', response: { error: { code: 'server_error', message: 'x' } } }));
    assert.equal(failed.error?.code, 'server_error');
  });

  it('reads usage and text of a JSON answer', () => {
    const body = {
      id: 'resp_1',
      model: 'openai/gpt-4o-mini',
      output: [{ type: 'message', content: [{ type: 'output_text', text: 'four' }] }],
      usage: { input_tokens: 3, input_tokens_details: { cached_tokens: 1 }, output_tokens: 4, total_tokens: 7 },
    };
    const facts = readJsonAnswer(Buffer.from(JSON.stringify(body)), RESPONSES_DIALECT.usageFields);
    assert.deepEqual(facts.usage, { promptTokens: 3, completionTokens: 4, totalTokens: 7, cost: null });
    assert.equal(RESPONSES_DIALECT.contentChars(body), 4);
  });
});

describe('Anthropic Messages dialect', () => {
  it('adds message_start input tokens (cache included) to message_delta output tokens and cost', () => {
    const p = new SseUsageParser(ANTHROPIC_MESSAGES_DIALECT);
    p.push(
      event({
        type: 'message_start',
        message: {
          model: 'anthropic/claude-3.5-haiku',
          usage: { input_tokens: 10, cache_read_input_tokens: 5, output_tokens: 1 },
        },
      }),
    );
    p.push(event({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi!' } }));
    p.push(
      event({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 9, cost: 0.01 } }),
    );
    p.push(event({ type: 'message_stop' }));
    p.end();
    assert.deepEqual(p.usage, { promptTokens: 15, completionTokens: 9, totalTokens: 24, cost: 0.01 });
    assert.deepEqual([p.model, p.contentChars, p.error], ['anthropic/claude-3.5-haiku', 3, null]);
  });

  it('names an error event by its type', () => {
    const p = new SseUsageParser(ANTHROPIC_MESSAGES_DIALECT);
    p.push(event({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }));
    assert.deepEqual(p.error, { code: 'overloaded_error', message: 'Overloaded' });
  });

  it('sends an Anthropic error event when the upstream breaks, which the SDKs read', () => {
    const [name, data] = ANTHROPIC_MESSAGES_DIALECT.interruptedEvent.trim().split('\n');
    assert.equal(name, 'event: error');
    assert.deepEqual(JSON.parse(data.slice('data: '.length)), {
      type: 'error',
      error: {
        type: 'api_error',
        message: 'The upstream stream was interrupted',
        code: 'upstream_stream_interrupted',
      },
    });
  });
});
