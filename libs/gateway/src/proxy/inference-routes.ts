import type { ApiBody } from '@nestjs/swagger';
import {
  CHAT_COMPLETIONS,
  COMPLETIONS,
  EMBEDDINGS,
  InferenceEndpoint,
  MESSAGES,
  RESPONSES,
} from './inference-endpoint';

/** A request body's JSON schema, as `@ApiBody` takes it. */
type BodySchema = Extract<Parameters<typeof ApiBody>[0], { schema: unknown }>['schema'];

/** One inference route as the OpenAPI document shows it; the controller is built from it. */
export interface InferenceRoute {
  readonly endpoint: InferenceEndpoint;
  /** The controller's class name, which names the route's OpenAPI operation (`…Controller_create`). */
  readonly controller: string;
  readonly summary: string;
  readonly description: string;
  readonly body: BodySchema;
  readonly ok: string;
}

const SAME_AS_CHAT =
  'the body unchanged, renewal on 401 (`X-OpenRouter-Key-Renewed: true`), usage recorded and counted against the token quota';
const stringOrStrings = { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] };

export const INFERENCE_ROUTES: readonly InferenceRoute[] = [
  {
    endpoint: CHAT_COMPLETIONS,
    controller: 'ChatCompletionsController',
    summary: "OpenAI-compatible chat completion on the key's user's OpenRouter key",
    description:
      'The body is forwarded to OpenRouter unchanged. `stream: true` answers server-sent events as they arrive. ' +
      'A revoked upstream key is renewed once and the request retried (`X-OpenRouter-Key-Renewed: true`). ' +
      'Errors are OpenAI-shaped: `{"error": {"message", "type", "code"}}`; a key over its token quota gets 429 `insufficient_quota`.',
    body: {
      type: 'object',
      required: ['model', 'messages'],
      properties: {
        model: { type: 'string' },
        messages: { type: 'array', items: { type: 'object' } },
        stream: { type: 'boolean' },
        max_tokens: { type: 'integer' },
      },
    },
    ok: 'A chat.completion object, or a stream of chat.completion.chunk events',
  },
  {
    endpoint: COMPLETIONS,
    controller: 'CompletionsController',
    summary: "OpenAI-compatible (legacy) text completion on the key's user's OpenRouter key",
    description: `Forwarded to OpenRouter’s \`/completions\` exactly as chat completions are: ${SAME_AS_CHAT}, \`stream: true\` relayed as server-sent events, errors in OpenAI’s shape.`,
    body: {
      type: 'object',
      required: ['model', 'prompt'],
      properties: {
        model: { type: 'string' },
        prompt: stringOrStrings,
        stream: { type: 'boolean' },
        max_tokens: { type: 'integer' },
      },
    },
    ok: 'A text_completion object, or a stream of text_completion events',
  },
  {
    endpoint: EMBEDDINGS,
    controller: 'EmbeddingsController',
    summary: "OpenAI-compatible embeddings on the key's user's OpenRouter key",
    description: `Forwarded to OpenRouter’s \`/embeddings\` exactly as chat completions are (never streamed): ${SAME_AS_CHAT}, errors in OpenAI’s shape.`,
    body: {
      type: 'object',
      required: ['model', 'input'],
      properties: {
        model: { type: 'string' },
        input: stringOrStrings,
        encoding_format: { type: 'string', enum: ['float', 'base64'] },
        dimensions: { type: 'integer' },
      },
    },
    ok: 'A list of embedding objects with `usage`',
  },
  {
    endpoint: RESPONSES,
    controller: 'ResponsesController',
    summary: "OpenAI Responses API on the key's user's OpenRouter key",
    description:
      `What \`openai.responses.create\` and the Vercel AI SDK's default OpenAI model call. Forwarded to OpenRouter’s \`/responses\` exactly as chat completions are: ${SAME_AS_CHAT} ` +
      '(`usage.input_tokens`, `output_tokens`; streams: the `response.completed` event), `stream: true` relayed as typed ' +
      'server-sent events (`event: response.output_text.delta` …), errors in OpenAI’s shape. Stateless: what OpenRouter ' +
      'refuses (`previous_response_id`) is relayed.',
    body: {
      type: 'object',
      required: ['model', 'input'],
      properties: {
        model: { type: 'string' },
        input: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'object' } }] },
        instructions: { type: 'string' },
        stream: { type: 'boolean' },
        max_output_tokens: { type: 'integer' },
      },
    },
    ok: 'A response object, or a stream of typed response events',
  },
  {
    endpoint: MESSAGES,
    controller: 'MessagesController',
    summary: "Anthropic Messages API on the key's user's OpenRouter key",
    description:
      'For Anthropic’s SDKs and the tools that speak their API (base URL `http(s)://host/api`): the key as `x-api-key` or ' +
      '`Authorization: Bearer`; `anthropic-version` and `anthropic-beta` are sent on. Forwarded to OpenRouter’s ' +
      `\`/messages\` exactly as chat completions are: ${SAME_AS_CHAT} (\`usage.input_tokens\`, \`output_tokens\`; streams: ` +
      '`message_start` and `message_delta`), `stream: true` relayed as server-sent events. Errors in Anthropic’s shape: ' +
      '`{"type": "error", "error": {"type", "message", "code"}}`.',
    body: {
      type: 'object',
      required: ['model', 'messages', 'max_tokens'],
      properties: {
        model: { type: 'string' },
        messages: { type: 'array', items: { type: 'object' } },
        system: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'object' } }] },
        max_tokens: { type: 'integer' },
        stream: { type: 'boolean' },
      },
    },
    ok: 'A message object, or a stream of message events (`message_start`, `content_block_delta`, …)',
  },
];
