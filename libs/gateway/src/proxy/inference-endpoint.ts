import type { InferencePath } from '#libs/openrouter';
import {
  AnswerDialect,
  ANTHROPIC_MESSAGES_DIALECT,
  CHAT_COMPLETIONS_DIALECT,
  RESPONSES_DIALECT,
} from './answer-dialects';

/**
 * One inference route the proxy core serves, and all that differs between them: everything else (the user's
 * key, renewal on 401, quotas, usage records, relaying) is the same code for every route.
 */
export interface InferenceEndpoint {
  /** The route below `/api`. */
  readonly route: string;
  /** OpenRouter's endpoint of the same name, below its base URL. */
  readonly path: InferencePath;
  /** `stream: true` is relayed as server-sent events; false for endpoints that never stream. */
  readonly streams: boolean;
  /** Whether the request generates tokens, reserved against the quota (max tokens or a default). */
  readonly generates: boolean;
  /** How usage and generated text are read from its JSON answers and its events. */
  readonly dialect: AnswerDialect;
  /** Whose SDKs call it, and so whose error shape it answers (the exception filter picks it by route). */
  readonly family: 'openai' | 'anthropic';
  /** Request headers of the API's protocol that OpenRouter needs too, sent on as they came. */
  readonly forwardHeaders: readonly string[];
  /** Names the request in validation messages. */
  readonly what: string;
}

export const CHAT_COMPLETIONS: InferenceEndpoint = {
  route: 'v1/chat/completions',
  path: '/chat/completions',
  streams: true,
  generates: true,
  dialect: CHAT_COMPLETIONS_DIALECT,
  family: 'openai',
  forwardHeaders: [],
  what: 'an OpenAI chat completion request',
};

export const COMPLETIONS: InferenceEndpoint = {
  route: 'v1/completions',
  path: '/completions',
  streams: true,
  generates: true,
  dialect: CHAT_COMPLETIONS_DIALECT,
  family: 'openai',
  forwardHeaders: [],
  what: 'an OpenAI completion request',
};

export const EMBEDDINGS: InferenceEndpoint = {
  route: 'v1/embeddings',
  path: '/embeddings',
  streams: false,
  generates: false,
  dialect: CHAT_COMPLETIONS_DIALECT,
  family: 'openai',
  forwardHeaders: [],
  what: 'an OpenAI embeddings request',
};

export const RESPONSES: InferenceEndpoint = {
  route: 'v1/responses',
  path: '/responses',
  streams: true,
  generates: true,
  dialect: RESPONSES_DIALECT,
  family: 'openai',
  forwardHeaders: [],
  what: 'an OpenAI Responses API request',
};

export const MESSAGES: InferenceEndpoint = {
  route: 'v1/messages',
  path: '/messages',
  streams: true,
  generates: true,
  dialect: ANTHROPIC_MESSAGES_DIALECT,
  family: 'anthropic',
  forwardHeaders: ['anthropic-version', 'anthropic-beta'],
  what: 'an Anthropic Messages API request',
};

export const INFERENCE_ENDPOINTS: readonly InferenceEndpoint[] = [
  CHAT_COMPLETIONS,
  COMPLETIONS,
  EMBEDDINGS,
  RESPONSES,
  MESSAGES,
];
