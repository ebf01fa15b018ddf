/**
 * The clients tenants build with, unchanged, against the real server (the fake OpenRouter behind it): each is
 * given only the gateway's base URL and a tenant API key, and each answer is checked against what the fake
 * upstream said (its text echoes the prompt, its usage is the fake's). A failing check names the client and its
 * version.
 *
 * - `openai`: chat, stream, responses, responses stream, embeddings, completions, models
 * - `ai` with `@ai-sdk/openai` (its default model calls the Responses API; `.chat` chat completions) and
 *   `@ai-sdk/openai-compatible` (stream, embed); `@openrouter/ai-sdk-provider` (generateText)
 * - `@langchain/openai`: invoke, stream, embeddings
 * - `@anthropic-ai/sdk`: messages.create and messages.stream, on the base URL `…/api`
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { ChatOpenAI, OpenAIEmbeddings } from '@langchain/openai';
import { createOpenRouter } from '@openrouter/ai-sdk-provider';
import { embed, generateText, streamText } from 'ai';
import OpenAI from 'openai';
import { redisAvailable, startApp, type TestApp } from './support/app';
import { FakeOpenRouter } from './support/fake-openrouter';
import { newTenantKey, type TenantKey } from './gateway-helpers';

const USAGE = { prompt_tokens: 11, completion_tokens: 22, cost: 0.00033 };
const TOTAL = USAGE.prompt_tokens + USAGE.completion_tokens;
const MODEL = 'openai/gpt-4o-mini';
const EMBEDDING_MODEL = 'openai/text-embedding-3-small';

/** `name@version` of an installed client, read from its own package.json. */
function clientName(pkg: string): string {
  try {
    const manifest = JSON.parse(readFileSync(join(process.cwd(), 'node_modules', pkg, 'package.json'), 'utf8'));
    return `${pkg}@${String(manifest.version)}`;
  } catch {
    return `${pkg}@unknown`;
  }
}

/** Runs a client's check; a failure names the client and its version first. */
async function as(pkg: string, check: () => Promise<void>): Promise<void> {
  try {
    await check();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw Object.assign(new Error(`${clientName(pkg)}: ${message}`, { cause: err }), { stack: (err as Error)?.stack });
  }
}

describe('the clients tenants build with, against the gateway', () => {
  const fake = new FakeOpenRouter({ usage: USAGE });
  let app: TestApp;
  let t: TenantKey;
  let v1: string;

  before(async () => {
    await fake.start();
    app = await startApp({
      openRouter: fake,
      redis: redisAvailable(),
      inProcess: true,
      env: { OPENROUTER_CHAT_TIMEOUT_MS: '5000' },
    });
    t = await newTenantKey(app);
    v1 = `${app.baseUrl}/api/v1`;
  });
  after(async () => {
    await app?.stop();
    await fake.stop();
  });

  /** The last call the fake received on a route, to show it came with the user's own key. */
  const lastCall = (route: 'chat' | 'responses' | 'messages' | 'embeddings' | 'completions') =>
    fake.requests.filter((r) => r.route === route).at(-1);
  const sentWithUsersKey = (route: Parameters<typeof lastCall>[0]) =>
    assert.equal(
      lastCall(route)?.keyHash,
      fake.keys.find((k) => k.key === t.openRouterKey)?.hash,
      `the ${route} call reached OpenRouter with the user's own key`,
    );

  describe('openai', () => {
    let client: OpenAI;
    before(() => {
      client = new OpenAI({ apiKey: t.key, baseURL: v1, maxRetries: 0 });
    });

    it('chat.completions.create, plain and streamed', () =>
      as('openai', async () => {
        const messages = [{ role: 'user' as const, content: 'hello from openai' }];
        const plain = await client.chat.completions.create({ model: MODEL, messages });
        assert.equal(plain.choices[0].message.content, 'hello from openai');
        assert.equal(plain.usage?.total_tokens, TOTAL);
        const stream = await client.chat.completions.create({
          model: MODEL,
          messages,
          stream: true,
          stream_options: { include_usage: true },
        });
        let text = '';
        let total: number | undefined;
        for await (const chunk of stream) {
          text += chunk.choices[0]?.delta?.content ?? '';
          total = chunk.usage?.total_tokens ?? total;
        }
        assert.deepEqual([text, total], ['hello from openai', TOTAL]);
        sentWithUsersKey('chat');
      }));

    it('responses.create, plain and streamed (typed events)', () =>
      as('openai', async () => {
        const plain = await client.responses.create({ model: MODEL, input: 'respond to me', max_output_tokens: 50 });
        assert.equal(plain.output_text, 'respond to me');
        assert.deepEqual(
          [plain.usage?.input_tokens, plain.usage?.output_tokens, plain.usage?.total_tokens],
          [USAGE.prompt_tokens, USAGE.completion_tokens, TOTAL],
        );
        sentWithUsersKey('responses');

        const stream = await client.responses.create({ model: MODEL, input: 'stream a response', stream: true });
        let text = '';
        const types: string[] = [];
        let completedTotal: number | undefined;
        for await (const event of stream) {
          types.push(event.type);
          if (event.type === 'response.output_text.delta') text += event.delta;
          if (event.type === 'response.completed') completedTotal = event.response.usage?.total_tokens;
        }
        assert.equal(text, 'stream a response');
        assert.equal(types[0], 'response.created');
        assert.equal(types.at(-1), 'response.completed');
        assert.equal(completedTotal, TOTAL);
      }));

    it('embeddings.create, completions.create, models.list', () =>
      as('openai', async () => {
        const embedded = await client.embeddings.create({ model: EMBEDDING_MODEL, input: ['a', 'b'] });
        assert.deepEqual(
          embedded.data.map((d) => d.embedding.length),
          [8, 8],
        );
        assert.equal(embedded.usage.prompt_tokens, USAGE.prompt_tokens);
        const completion = await client.completions.create({ model: MODEL, prompt: 'complete me', max_tokens: 5 });
        assert.equal(completion.choices[0].text, 'complete me');
        assert.equal(completion.usage?.total_tokens, TOTAL);
        const ids: string[] = [];
        for await (const model of client.models.list()) ids.push(model.id);
        assert.ok(ids.includes(MODEL), ids.join());
      }));
  });

  describe('ai (Vercel AI SDK)', () => {
    it('@ai-sdk/openai: the default model (Responses API) and .chat (chat completions)', () =>
      as('@ai-sdk/openai', async () => {
        const openai = createOpenAI({ apiKey: t.key, baseURL: v1 });
        const responses = fake.requests.filter((r) => r.route === 'responses').length;
        const viaResponses = await generateText({ model: openai(MODEL), prompt: 'ai default model', maxRetries: 0 });
        assert.equal(viaResponses.text, 'ai default model');
        assert.deepEqual(
          [viaResponses.usage.inputTokens, viaResponses.usage.outputTokens, viaResponses.usage.totalTokens],
          [USAGE.prompt_tokens, USAGE.completion_tokens, TOTAL],
        );
        assert.equal(
          fake.requests.filter((r) => r.route === 'responses').length,
          responses + 1,
          'the default model called the Responses API',
        );

        const viaChat = await generateText({ model: openai.chat(MODEL), prompt: 'ai chat model', maxRetries: 0 });
        assert.equal(viaChat.text, 'ai chat model');
        assert.equal(viaChat.usage.totalTokens, TOTAL);
        sentWithUsersKey('chat');

        const streamed = streamText({ model: openai(MODEL), prompt: 'ai streams a response', maxRetries: 0 });
        let text = '';
        for await (const delta of streamed.textStream) text += delta;
        assert.equal(text, 'ai streams a response');
        assert.equal((await streamed.usage).totalTokens, TOTAL);
      }));

    it('@ai-sdk/openai-compatible: streamText and embed', () =>
      as('@ai-sdk/openai-compatible', async () => {
        const provider = createOpenAICompatible({ name: 'gateway', apiKey: t.key, baseURL: v1, includeUsage: true });
        const streamed = streamText({ model: provider.chatModel(MODEL), prompt: 'compatible stream', maxRetries: 0 });
        let text = '';
        for await (const delta of streamed.textStream) text += delta;
        assert.equal(text, 'compatible stream');
        assert.equal((await streamed.usage).totalTokens, TOTAL);

        const { embedding, usage } = await embed({
          model: provider.embeddingModel(EMBEDDING_MODEL),
          value: 'embed me',
          maxRetries: 0,
        });
        assert.equal(embedding.length, 8);
        assert.equal(usage.tokens, USAGE.prompt_tokens);
        sentWithUsersKey('embeddings');
      }));

    it('@openrouter/ai-sdk-provider: generateText', () =>
      as('@openrouter/ai-sdk-provider', async () => {
        const openrouter = createOpenRouter({ apiKey: t.key, baseURL: v1 });
        const result = await generateText({ model: openrouter(MODEL), prompt: 'openrouter provider', maxRetries: 0 });
        assert.equal(result.text, 'openrouter provider');
        assert.equal(result.usage.totalTokens, TOTAL);
        sentWithUsersKey('chat');
      }));
  });

  describe('@langchain/openai', () => {
    it('ChatOpenAI invoke and stream, OpenAIEmbeddings', () =>
      as('@langchain/openai', async () => {
        const chat = new ChatOpenAI({ model: MODEL, apiKey: t.key, configuration: { baseURL: v1 }, maxRetries: 0 });
        const answer = await chat.invoke('langchain invoke');
        assert.equal(answer.content, 'langchain invoke');
        assert.equal(answer.usage_metadata?.total_tokens, TOTAL);

        let streamed = '';
        for await (const chunk of await chat.stream('langchain stream')) streamed += String(chunk.content);
        assert.equal(streamed, 'langchain stream');
        sentWithUsersKey('chat');

        const embeddings = new OpenAIEmbeddings({
          model: EMBEDDING_MODEL,
          apiKey: t.key,
          configuration: { baseURL: v1 },
          maxRetries: 0,
        });
        const vector = await embeddings.embedQuery('langchain embeds');
        assert.equal(vector.length, 8);
        const direct = await new OpenAI({ apiKey: t.key, baseURL: v1, maxRetries: 0 }).embeddings.create({
          model: EMBEDDING_MODEL,
          input: 'langchain embeds',
          encoding_format: 'float',
        });
        vector.forEach((x, i) => assert.ok(Math.abs(x - direct.data[0].embedding[i]) < 1e-6, `dimension ${i}`));
      }));
  });

  describe('@anthropic-ai/sdk', () => {
    let anthropic: Anthropic;
    before(() => {
      // Anthropic's SDKs add /v1/messages to the base URL.
      anthropic = new Anthropic({ apiKey: t.key, baseURL: `${app.baseUrl}/api`, maxRetries: 0 });
    });

    it('messages.create and messages.stream, with anthropic-version sent on', () =>
      as('@anthropic-ai/sdk', async () => {
        const message = await anthropic.messages.create({
          model: 'anthropic/claude-3.5-haiku',
          max_tokens: 100,
          messages: [{ role: 'user', content: 'hello claude' }],
        });
        assert.equal(message.type, 'message');
        assert.deepEqual(message.content, [{ type: 'text', text: 'hello claude' }]);
        assert.deepEqual(
          [message.usage.input_tokens, message.usage.output_tokens],
          [USAGE.prompt_tokens, USAGE.completion_tokens],
        );
        sentWithUsersKey('messages');
        assert.match(lastCall('messages')?.anthropicHeaders['anthropic-version'] ?? '', /^\d{4}-\d{2}-\d{2}$/);

        const stream = anthropic.messages.stream({
          model: 'anthropic/claude-3.5-haiku',
          max_tokens: 100,
          messages: [{ role: 'user', content: 'stream, claude' }],
        });
        let text = '';
        stream.on('text', (delta) => (text += delta));
        const final = await stream.finalMessage();
        assert.equal(text, 'stream, claude');
        assert.deepEqual(
          [final.usage.input_tokens, final.usage.output_tokens],
          [USAGE.prompt_tokens, USAGE.completion_tokens],
        );
      }));

    it("reads the gateway's refusals as Anthropic errors (a bad key is an AuthenticationError)", () =>
      as('@anthropic-ai/sdk', async () => {
        const bad = new Anthropic({ apiKey: 'umk_not-a-real-key', baseURL: `${app.baseUrl}/api`, maxRetries: 0 });
        await assert.rejects(
          bad.messages.create({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }),
          (err: unknown) => {
            assert.ok(err instanceof Anthropic.AuthenticationError, String(err));
            assert.equal(err.status, 401);
            const body = err.error as { type?: string; error?: { type?: string; code?: string } };
            assert.deepEqual(
              [body.type, body.error?.type, body.error?.code],
              ['error', 'authentication_error', 'invalid_api_key'],
            );
            return true;
          },
        );
      }));
  });
});
