/** Completion tokens reserved when the request sets no max_tokens. */
export const DEFAULT_COMPLETION_ESTIMATE = 1024;
/** Rough characters per token of English text and JSON. */
const CHARS_PER_TOKEN = 4;

/**
 * Prompt tokens guessed from the request's messages (chat, Anthropic messages), prompt (completions) or input
 * (embeddings, responses), with its instructions (responses) or system prompt (Anthropic messages).
 */
export function estimatePromptTokens(body: Record<string, unknown>): number {
  const input = body.messages ?? body.prompt ?? body.input ?? '';
  const preamble = body.instructions ?? body.system ?? '';
  return Math.ceil((textLength(input) + textLength(preamble)) / CHARS_PER_TOKEN);
}

function textLength(value: unknown): number {
  return typeof value === 'string' ? value.length : (JSON.stringify(value) ?? '').length;
}

/**
 * What a request may use at most, as far as we can tell before it runs: the prompt plus, for requests
 * that generate, max_tokens (or max_completion_tokens, max_output_tokens, or a default). Reserved against the quota until
 * the real usage is known.
 */
export function estimateRequestTokens(body: Record<string, unknown>, generates = true): number {
  if (!generates) return estimatePromptTokens(body);
  const max =
    positiveInt(body.max_completion_tokens) ??
    positiveInt(body.max_output_tokens) ??
    positiveInt(body.max_tokens) ??
    DEFAULT_COMPLETION_ESTIMATE;
  return estimatePromptTokens(body) + max;
}

/** Tokens guessed from generated text, for answers that came without usage (the caller disconnected). */
export function estimateTextTokens(chars: number): number {
  return Math.ceil(chars / CHARS_PER_TOKEN);
}

function positiveInt(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : null;
}
