/** Options the lead wires through `OPENROUTER_CLIENT_OPTIONS` (no ConfigService dependency here). */
export interface OpenRouterClientOptions {
  /** e.g. https://openrouter.ai/api/v1; trailing slashes are removed. */
  baseUrl: string;
  /** Provisioning (management) key; undefined or empty => management calls fail with openrouter_not_configured. */
  provisioningKey?: string;
  /** Per attempt. For streams: time until the response headers, not the whole stream. */
  timeoutMs: number;
  /** Extra attempts for idempotent calls (GET, PATCH, DELETE). Default 2. */
  maxRetries?: number;
  /** First backoff delay; doubles per attempt, with jitter. Default 100. */
  retryBaseDelayMs?: number;
}

/** Nest injection token for {@link OpenRouterClientOptions}. */
export const OPENROUTER_CLIENT_OPTIONS = Symbol('OPENROUTER_CLIENT_OPTIONS');

/** A key as the management API describes it (never contains the plaintext key). */
export interface UpstreamKey {
  /** Stable identifier used in /keys/{hash}; not a secret. */
  hash: string;
  name: string;
  /** OpenRouter's own masked label, e.g. `sk-or-v1-abc…1c96`. */
  label: string | null;
  disabled: boolean;
  /** Credit limit in USD; null = unlimited. */
  limit: number | null;
  limitRemaining: number | null;
  /** Credits used, USD. */
  usage: number | null;
  createdAt: string | null;
  updatedAt: string | null;
}

/** Answer of `POST /keys`: the only time the plaintext key is ever visible. */
export interface CreatedKey {
  key: string;
  hash: string;
  name: string;
  label: string | null;
  limit: number | null;
  createdAt: string | null;
}

export interface CreateKeyInput {
  name: string;
  /** USD; null/undefined => no limit sent (unlimited). */
  limit?: number | null;
}

export interface UpdateKeyInput {
  name?: string;
  disabled?: boolean;
  /** USD; null removes the limit. */
  limit?: number | null;
}

export interface ListKeysInput {
  offset?: number;
  /** OpenRouter omits disabled keys unless asked. */
  includeDisabled?: boolean;
}

/** Response headers, lower-case names; framing headers (content-length, content-encoding, …) removed. */
export type UpstreamHeaders = Record<string, string>;

/** A chat completion answer, any status. Exactly one of `json` / `stream` is set. */
export type UpstreamResponse =
  | { status: number; headers: UpstreamHeaders; json: unknown; stream?: undefined }
  | { status: number; headers: UpstreamHeaders; stream: NodeJS.ReadableStream; json?: undefined };

/** The inference endpoints the gateway proxies, below the base URL. */
export type InferencePath = '/chat/completions' | '/completions' | '/embeddings' | '/responses' | '/messages';

/**
 * An inference answer, any status. A 2xx stream is handed over unread (`stream`, the HTTP client's own
 * body: it errors when the connection breaks or the signal aborts, and destroying it aborts the request);
 * anything else is read whole (`bytes`, as OpenRouter sent them: the gateway relays them without
 * re-serialising).
 */
export type InferenceResponse =
  | { status: number; headers: UpstreamHeaders; bytes: Buffer; stream?: undefined }
  | { status: number; headers: UpstreamHeaders; stream: NodeJS.ReadableStream; bytes?: undefined };

export type InferenceOptions = ChatCompletionOptions;

export interface ChatCompletionOptions {
  stream: boolean;
  /** Aborts the upstream request (and, for streams, the body) e.g. when the client disconnects. */
  signal?: AbortSignal;
  /** Overrides the client's timeoutMs for this call. */
  timeoutMs?: number;
  /** Protocol headers of the caller's request sent on (e.g. `anthropic-version`); never credentials. */
  headers?: Record<string, string>;
}
