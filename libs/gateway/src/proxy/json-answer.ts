import { parseUsage, PROMPT_COMPLETION_FIELDS, TokenUsage, UsageFields } from './token-usage';

/** OpenRouter puts `usage` last: it is looked for in this many trailing bytes only. */
const TAIL_BYTES = 4096;
/** `model` usually comes first; looked for in this many leading bytes, then in the tail. */
const HEAD_BYTES = 1024;
const MODEL_RE = /"model"\s*:\s*"([^"\\]{1,200})"/;
const USAGE_KEY = '"usage"';
const MODEL_KEY = '"model"';

/** What the gateway needs from a JSON answer it relays as bytes. */
export interface JsonAnswerFacts {
  usage: TokenUsage | null;
  model: string | null;
  /** The answer parsed whole: only when its tail held no usage (an error body, an answer without usage). */
  parsed?: unknown;
  /** False when the bytes are not JSON at all. */
  valid: boolean;
}

/**
 * Reads usage and model from a completion's, embedding's, response's or message's JSON without parsing the whole answer (an
 * embedding is mostly numbers): `usage` from the tail, `model` from the head. When the tail holds no usage
 * object, the answer is parsed whole, as it then is small or unusual.
 */
export function readJsonAnswer(bytes: Buffer, fields: UsageFields = PROMPT_COMPLETION_FIELDS): JsonAnswerFacts {
  const usage = usageFromTail(bytes, fields);
  if (usage) return { usage, model: modelOf(bytes), valid: true };
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { usage: null, model: null, valid: false };
  }
  const model = (parsed as { model?: unknown } | null)?.model;
  return {
    usage: parseUsage((parsed as { usage?: unknown } | null)?.usage, fields),
    model: typeof model === 'string' ? model.slice(0, 200) : null,
    parsed,
    valid: true,
  };
}

/** The last `"usage": {…}` object of the answer; null when there is none (or it is not one piece of JSON). */
export function usageFromTail(bytes: Buffer, fields: UsageFields = PROMPT_COMPLETION_FIELDS): TokenUsage | null {
  // Searched in the bytes (ASCII, so byte and character offsets agree up to the key): only the object is decoded.
  // Inside a JSON string the quotes would be escaped: an unescaped `"usage"` is a key.
  const at = bytes.lastIndexOf(USAGE_KEY);
  if (at < 0 || at < bytes.length - TAIL_BYTES) return null;
  const tail = bytes.toString('utf8', at + USAGE_KEY.length);
  const open = tail.indexOf('{');
  if (open < 0 || tail.slice(0, open).trim() !== ':') return null;
  const close = objectEnd(tail, open);
  if (close < 0) return null;
  try {
    return parseUsage(JSON.parse(tail.slice(open, close + 1)), fields);
  } catch {
    return null;
  }
}

/** Chat and completion answers name the model first; embedding answers after the data, near the end. */
function modelOf(bytes: Buffer): string | null {
  const head = modelIn(bytes, 0, Math.min(bytes.length, HEAD_BYTES));
  if (head !== null || bytes.length <= HEAD_BYTES) return head;
  return modelIn(bytes, Math.max(HEAD_BYTES, bytes.length - TAIL_BYTES), bytes.length);
}

/** MODEL_RE's match in bytes[start, end), decoding from the first `"model"` on only. */
function modelIn(bytes: Buffer, start: number, end: number): string | null {
  const at = bytes.indexOf(MODEL_KEY, start);
  if (at < 0 || at >= end) return null;
  const found = MODEL_RE.exec(bytes.toString('utf8', at, end));
  return found ? found[1] : null;
}

/** Index of the `}` closing the object opened at `open`, strings skipped; -1 when it does not close. */
function objectEnd(text: string, open: number): number {
  let depth = 0;
  let inString = false;
  for (let i = open; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */) depth++;
    else if (c === 125 /* } */ && --depth === 0) return i;
  }
  return -1;
}
