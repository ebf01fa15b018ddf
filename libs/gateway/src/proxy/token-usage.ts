/** Token usage of one answer, from its `usage` object (`cost` is OpenRouter's addition). */
export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  cost: number | null;
}

/** Which fields of an API's `usage` object hold the prompt and the generated tokens. */
export interface UsageFields {
  /** Summed: Anthropic counts cached input apart from `input_tokens`. */
  readonly prompt: readonly string[];
  readonly completion: string;
}

/** OpenAI's chat completions, completions and embeddings: `prompt_tokens`, `completion_tokens`. */
export const PROMPT_COMPLETION_FIELDS: UsageFields = { prompt: ['prompt_tokens'], completion: 'completion_tokens' };
/** OpenAI's Responses API: `input_tokens` (cached ones included), `output_tokens`. */
export const INPUT_OUTPUT_FIELDS: UsageFields = { prompt: ['input_tokens'], completion: 'output_tokens' };
/** Anthropic's Messages API: `input_tokens` plus the cache writes and reads it leaves out, `output_tokens`. */
export const ANTHROPIC_FIELDS: UsageFields = {
  prompt: ['input_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens'],
  completion: 'output_tokens',
};

/** Reads a `usage` object; null when it is missing or holds no token count. */
export function parseUsage(raw: unknown, fields: UsageFields = PROMPT_COMPLETION_FIELDS): TokenUsage | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const u = raw as Record<string, unknown>;
  let prompt: number | null = null;
  for (const name of fields.prompt) {
    const n = count(u[name]);
    if (n !== null) prompt = (prompt ?? 0) + n;
  }
  const completion = count(u[fields.completion]);
  const total = count(u.total_tokens);
  if (prompt === null && completion === null && total === null) return null;
  const p = Math.min(prompt ?? 0, MAX_TOKENS);
  const c = completion ?? 0;
  return {
    promptTokens: p,
    completionTokens: c,
    totalTokens: total ?? Math.min(p + c, MAX_TOKENS),
    cost: typeof u.cost === 'number' && Number.isFinite(u.cost) && u.cost >= 0 ? u.cost : null,
  };
}

const MAX_TOKENS = 2_000_000_000;

function count(value: unknown): number | null {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return null;
  return Math.min(Math.round(value), MAX_TOKENS);
}
