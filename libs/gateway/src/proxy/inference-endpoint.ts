import type { InferencePath } from '#libs/openrouter';

/** One OpenAI-compatible route the proxy core serves, and what differs between them. */
export interface InferenceEndpoint {
  /** OpenRouter's endpoint of the same name, below its base URL. */
  readonly path: InferencePath;
  /** `stream: true` is relayed as server-sent events; false for endpoints that never stream. */
  readonly streams: boolean;
  /** Whether the request generates tokens, reserved against the quota (max_tokens or a default). */
  readonly generates: boolean;
  /** Names the request in validation messages. */
  readonly what: string;
}

export const CHAT_COMPLETIONS: InferenceEndpoint = {
  path: '/chat/completions',
  streams: true,
  generates: true,
  what: 'an OpenAI chat completion request',
};

export const COMPLETIONS: InferenceEndpoint = {
  path: '/completions',
  streams: true,
  generates: true,
  what: 'an OpenAI completion request',
};

export const EMBEDDINGS: InferenceEndpoint = {
  path: '/embeddings',
  streams: false,
  generates: false,
  what: 'an OpenAI embeddings request',
};
