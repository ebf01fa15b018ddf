import assert from 'node:assert/strict';
import { once } from 'node:events';
import { PassThrough, Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { relaySse } from './sse-relay';
import { SseUsageParser } from './sse-usage.parser';

const chunk = (obj: unknown) => `data: ${JSON.stringify(obj)}\n\n`;
const USAGE = { prompt_tokens: 7, completion_tokens: 5, total_tokens: 12, cost: 0.002 };

describe('SseUsageParser', () => {
  it('reads usage, model and content from events split anywhere, skipping comments', () => {
    const text =
      ': OPENROUTER PROCESSING\n\n' +
      chunk({ model: 'm/one', choices: [{ delta: { content: 'Hel' } }] }) +
      chunk({ model: 'm/one', choices: [{ delta: { content: 'lo' } }] }) +
      chunk({ model: 'm/one', choices: [{ delta: {}, finish_reason: 'stop' }] }) +
      chunk({ model: 'm/one', choices: [], usage: USAGE }) +
      'data: [DONE]\n\n';
    for (const size of [1, 3, 7, 64, text.length]) {
      const p = new SseUsageParser();
      for (let i = 0; i < text.length; i += size) p.push(Buffer.from(text.slice(i, i + size)));
      p.end();
      assert.deepEqual(p.usage, { promptTokens: 7, completionTokens: 5, totalTokens: 12, cost: 0.002 }, `size ${size}`);
      assert.equal(p.model, 'm/one');
      assert.equal(p.contentChars, 5);
      assert.equal(p.done, true);
      assert.equal(p.error, null);
    }
  });

  it('keeps multi-byte characters split across chunks intact', () => {
    const bytes = Buffer.from(chunk({ choices: [{ delta: { content: 'héllo ✓' } }] }));
    const p = new SseUsageParser();
    for (let i = 0; i < bytes.length; i++) p.push(bytes.subarray(i, i + 1));
    assert.equal(p.contentChars, 'héllo ✓'.length);
  });

  it('understands CRLF framing and multi-line data', () => {
    const p = new SseUsageParser();
    p.push(': comment\r\n\r\ndata: {"usage":\r\ndata: {"total_tokens": 3}}\r\n\r\n');
    assert.equal(p.usage?.totalTokens, 3);
  });

  it('notes an error sent mid-stream as a data event', () => {
    const p = new SseUsageParser();
    p.push(chunk({ choices: [{ delta: { content: 'a' } }] }));
    p.push(
      chunk({
        error: { code: 502, message: 'Provider returned error' },
        choices: [{ delta: {}, finish_reason: 'error' }],
      }),
    );
    assert.deepEqual(p.error, { code: '502', message: 'Provider returned error' });
  });

  it('ignores garbage without throwing', () => {
    const p = new SseUsageParser();
    p.push('data: {not json\n\ndata: 42\n\nevent: ping\n\n');
    p.end();
    assert.equal(p.usage, null);
  });
});

describe('relaySse', () => {
  it('passes every byte on unchanged and reports the usage when the upstream ends', async () => {
    const upstream = new PassThrough();
    const relay = relaySse(upstream);
    const received: Buffer[] = [];
    relay.body.on('data', (b: Buffer) => received.push(b));
    const parts = [
      ': OPENROUTER PROCESSING\n\n',
      chunk({ model: 'x', choices: [{ delta: { content: 'hi' } }] }),
      chunk({ choices: [], usage: USAGE }),
      'data: [DONE]\n\n',
    ];
    const ended = once(relay.body, 'end');
    for (const part of parts) upstream.write(part);
    upstream.end();
    const result = await relay.done;
    await ended;
    assert.equal(Buffer.concat(received).toString(), parts.join(''));
    assert.equal(result.outcome, 'completed');
    assert.equal(result.usage?.totalTokens, 12);
    assert.equal(result.model, 'x');
  });

  it('relays chunk by chunk: the first reaches the caller before the upstream sends the next', async () => {
    const upstream = new PassThrough();
    const relay = relaySse(upstream);
    upstream.write(chunk({ choices: [{ delta: { content: 'first' } }] }));
    const [first] = (await once(relay.body, 'data')) as [Buffer];
    assert.match(first.toString(), /first/);
    upstream.end('data: [DONE]\n\n');
    assert.equal((await relay.done).outcome, 'completed');
  });

  it('applies back-pressure: the upstream is paused while the caller does not read', async () => {
    const upstream = new PassThrough({ highWaterMark: 1024 });
    const relay = relaySse(upstream);
    const big = chunk({ choices: [{ delta: { content: 'x'.repeat(4000) } }] });
    let writes = 0;
    while (upstream.write(big) && writes < 10_000) writes++;
    await sleep(20);
    assert.ok(writes < 10_000, 'the upstream buffer filled up, so writes were refused');
    assert.equal(upstream.isPaused(), true, 'the source is paused while nobody reads the relay');
    // Now read everything: the upstream drains and the relay completes.
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    relay.body.pipe(sink);
    upstream.end();
    assert.equal((await relay.done).outcome, 'completed');
  });

  it('destroys the upstream when the caller goes away, and says so', async () => {
    const upstream = new PassThrough();
    const relay = relaySse(upstream);
    upstream.write(chunk({ choices: [{ delta: { content: 'abcdefgh' } }] }));
    await once(relay.body, 'data');
    relay.body.destroy();
    const result = await relay.done;
    assert.equal(result.outcome, 'client_aborted');
    assert.equal(result.contentChars, 8);
    assert.equal(upstream.destroyed, true);
  });

  it('ends with an error event when the upstream breaks mid-stream', async () => {
    const upstream = new PassThrough();
    const relay = relaySse(upstream);
    const received: Buffer[] = [];
    relay.body.on('data', (b: Buffer) => received.push(b));
    const ended = once(relay.body, 'end');
    upstream.write(chunk({ choices: [{ delta: { content: 'a' } }] }));
    upstream.destroy(new Error('cut'));
    const result = await relay.done;
    await ended;
    assert.equal(result.outcome, 'upstream_failed');
    assert.match(Buffer.concat(received).toString(), /upstream_stream_interrupted/);
  });

  it('counts an upstream error after the caller left as the caller leaving', async () => {
    const upstream = new PassThrough();
    const gone = new AbortController();
    const relay = relaySse(upstream, gone.signal);
    gone.abort();
    upstream.destroy(new Error('aborted'));
    assert.equal((await relay.done).outcome, 'client_aborted');
  });

  it('works with a plain Readable as the upstream', async () => {
    const relay = relaySse(Readable.from([chunk({ choices: [], usage: USAGE }), 'data: [DONE]\n\n']));
    relay.body.resume();
    const result = await relay.done;
    assert.equal(result.usage?.totalTokens, 12);
  });
});

describe('relaySse and the crash journal', () => {
  it("ends the caller's body only after whoever awaits `done` has run (what they record is journaled first)", async () => {
    for (const failing of [false, true]) {
      const upstream = new PassThrough();
      const relay = relaySse(upstream);
      const order: string[] = [];
      void relay.done.then(() => order.push('settled and recorded'));
      relay.body.on('data', () => undefined);
      relay.body.once('end', () => order.push('caller body ended'));
      upstream.write(chunk({ choices: [], usage: USAGE }));
      if (failing) upstream.destroy(new Error('cut'));
      else upstream.end('data: [DONE]\n\n');
      await once(relay.body, 'end');
      assert.deepEqual(order, ['settled and recorded', 'caller body ended'], failing ? 'upstream failed' : 'completed');
    }
  });
});
