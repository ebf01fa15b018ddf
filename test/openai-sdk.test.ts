/**
 * The official `openai` npm client against /api/v1 of the real server (the fake OpenRouter behind it):
 * every call a user of an OpenAI gateway reaches for works by changing only the base URL and the key
 * (sent as `Authorization: Bearer umk_…`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI, { NotFoundError } from 'openai';
import { redisAvailable, startApp, type TestApp } from './support/app';
import { FakeOpenRouter } from './support/fake-openrouter';
import { newTenantKey, type TenantKey } from './gateway-helpers';

describe('the official openai client against /api/v1', () => {
  const fake = new FakeOpenRouter({ usage: { prompt_tokens: 10, completion_tokens: 20, cost: 0.0001 } });
  let app: TestApp;
  let t: TenantKey;
  let client: OpenAI;

  before(async () => {
    await fake.start();
    app = await startApp({
      inProcess: true,
      openRouter: fake,
      redis: redisAvailable(),
      env: { OPENROUTER_CHAT_TIMEOUT_MS: '5000' },
    });
    t = await newTenantKey(app);
    client = new OpenAI({ apiKey: t.key, baseURL: `${app.baseUrl}/api/v1`, maxRetries: 0 });
  });
  after(async () => {
    await app?.stop();
    await fake.stop();
  });

  it('models.list', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    assert.deepEqual(ids, ['openai/gpt-4o-mini', 'anthropic/claude-3.5-haiku', 'meta-llama/llama-3.1-8b-instruct']);
  });

  it('models.retrieve, with a model id holding a slash; an unknown model is a NotFoundError', async () => {
    const model = await client.models.retrieve('openai/gpt-4o-mini');
    assert.equal(model.id, 'openai/gpt-4o-mini');
    assert.equal((model as unknown as { context_length: number }).context_length, 128000);
    const other = await client.models.retrieve('meta-llama/llama-3.1-8b-instruct');
    assert.equal(other.id, 'meta-llama/llama-3.1-8b-instruct');
    await assert.rejects(client.models.retrieve('openai/no-such-model'), (err: unknown) => {
      assert.ok(err instanceof NotFoundError, String(err));
      assert.equal(err.status, 404);
      assert.equal(err.code, 'model_not_found');
      return true;
    });
  });

  it('embeddings.create (the client asks for base64 and decodes it), float too', async () => {
    const res = await client.embeddings.create({ model: 'openai/text-embedding-3-small', input: ['first', 'second'] });
    assert.equal(res.object, 'list');
    assert.equal(res.data.length, 2);
    assert.deepEqual(
      res.data.map((d) => [d.index, d.embedding.length]),
      [
        [0, 8],
        [1, 8],
      ],
    );
    assert.equal(res.usage.prompt_tokens, 10);
    const floats = await client.embeddings.create({
      model: 'openai/text-embedding-3-small',
      input: 'first',
      encoding_format: 'float',
    });
    // The same text gives the same vector either way (float32 precision).
    floats.data[0].embedding.forEach((x, i) => assert.ok(Math.abs(x - res.data[0].embedding[i]) < 1e-6));
    assert.equal(fake.callsFor('embeddings', t.openRouterKey!), 2, "sent with the user's own key");
  });

  it('completions.create, plain and streamed', async () => {
    const plain = await client.completions.create({ model: 'openai/gpt-4o-mini', prompt: 'say hi', max_tokens: 5 });
    assert.equal(plain.object, 'text_completion');
    assert.equal(plain.choices[0].text, 'say hi');
    assert.equal(plain.usage?.total_tokens, 30);

    const stream = await client.completions.create({ model: 'openai/gpt-4o-mini', prompt: 'stream me', stream: true });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? '';
      usage = chunk.usage ?? usage;
    }
    assert.equal(text, 'stream me');
    assert.equal(usage?.total_tokens, 30);
  });

  it('chat.completions.create, plain and streamed', async () => {
    const messages = [{ role: 'user' as const, content: 'hello there' }];
    const plain = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages });
    assert.equal(plain.choices[0].message.content, 'hello there');
    assert.equal(plain.usage?.total_tokens, 30);

    const stream = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    assert.equal(text, 'hello there');
  });

  it('errors reach the client as OpenAI errors (a bad key is an AuthenticationError)', async () => {
    const bad = new OpenAI({ apiKey: 'umk_not-a-real-key', baseURL: `${app.baseUrl}/api/v1`, maxRetries: 0 });
    await assert.rejects(bad.embeddings.create({ model: 'm', input: 'x' }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.AuthenticationError, String(err));
      assert.equal(err.code, 'invalid_api_key');
      return true;
    });
  });
});
