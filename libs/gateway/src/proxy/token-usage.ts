/** Token usage of one completion or embedding, from OpenAI's `usage` object (`cost` is OpenRouter's addition). */
export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  cost: number | null;
}

/** Reads a `usage` object; null when it is missing or holds no token count. */
export function parseUsage(raw: unknown): TokenUsage | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const u = raw as Record<string, unknown>;
  const prompt = count(u.prompt_tokens);
  const completion = count(u.completion_tokens);
  const total = count(u.total_tokens);
  if (prompt === null && completion === null && total === null) return null;
  const p = prompt ?? 0;
  const c = completion ?? 0;
  return {
    promptTokens: p,
    completionTokens: c,
    totalTokens: total ?? p + c,
    cost: typeof u.cost === 'number' && Number.isFinite(u.cost) && u.cost >= 0 ? u.cost : null,
  };
}

function count(value: unknown): number | null {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return null;
  return Math.min(Math.round(value), 2_000_000_000);
}
