import { ANTHROPIC_FIELDS, INPUT_OUTPUT_FIELDS, PROMPT_COMPLETION_FIELDS, UsageFields } from './token-usage';

/** What a stream told about itself so far, filled in event by event by a dialect. */
export interface StreamFacts {
  /** The `usage` fields seen so far, later events overriding earlier ones field by field. */
  usage: Record<string, unknown> | null;
  model: string | null;
  error: { code: string; message: string } | null;
  /** Characters of generated text, to estimate usage when none came. */
  contentChars: number;
}

/**
 * How one API family's answers carry what the gateway needs: usage and generated text in a JSON answer and
 * in the events of a stream, and the event that tells an SDK the stream broke. The events are left unchanged.
 */
export interface AnswerDialect {
  readonly usageFields: UsageFields;
  /** Generated characters of a whole JSON answer that came without usage. */
  contentChars(json: unknown): number;
  /** Reads one server-sent event's JSON `data`. */
  readEvent(data: Record<string, unknown>, facts: StreamFacts): void;
  /** Sent last when the upstream connection breaks mid-stream, so that SDKs see an error rather than a cut. */
  readonly interruptedEvent: string;
}

const INTERRUPTED = { message: 'The upstream stream was interrupted', code: 'upstream_stream_interrupted' };

/** Chat completions, completions, embeddings: `data: {choices, usage}` chunks, `data: [DONE]`. */
export const CHAT_COMPLETIONS_DIALECT: AnswerDialect = {
  usageFields: PROMPT_COMPLETION_FIELDS,
  contentChars(json) {
    let chars = 0;
    for (const choice of arrayAt(json, 'choices')) {
      const content = at(at(choice, 'message'), 'content') ?? at(choice, 'text');
      if (typeof content === 'string') chars += content.length;
    }
    return chars;
  },
  readEvent(data, facts) {
    setModel(facts, data.model);
    mergeUsage(facts, data.usage);
    if (data.error !== undefined && data.error !== null) facts.error = errorOf(data.error, 'code');
    for (const choice of arrayAt(data, 'choices')) {
      // A completion chunk (`/completions`) carries `text` rather than a delta.
      addText(facts, at(choice, 'text'));
      addText(facts, at(at(choice, 'delta'), 'content'));
      addText(facts, at(at(choice, 'delta'), 'reasoning'));
    }
  },
  interruptedEvent: `data: ${JSON.stringify({ error: { ...INTERRUPTED, type: 'server_error', param: null } })}\n\n`,
};

/**
 * OpenAI's Responses API: typed events (`response.created`, `response.output_text.delta`…), the usage in the
 * final `response.completed` (or `response.incomplete` / `response.failed`) event's `response`.
 */
export const RESPONSES_DIALECT: AnswerDialect = {
  usageFields: INPUT_OUTPUT_FIELDS,
  contentChars(json) {
    let chars = 0;
    for (const item of arrayAt(json, 'output'))
      for (const part of arrayAt(item, 'content')) chars += textLength(at(part, 'text'));
    return chars;
  },
  readEvent(data, facts) {
    const type = typeof data.type === 'string' ? data.type : '';
    const response = at(data, 'response');
    if (response !== undefined) {
      setModel(facts, at(response, 'model'));
      mergeUsage(facts, at(response, 'usage'));
      const failure = at(response, 'error');
      if (type === 'response.failed' && failure) facts.error = errorOf(failure, 'code');
    }
    if (type === 'error') facts.error = errorOf(data, 'code');
    // Text, reasoning and tool-call arguments all arrive as `*.delta` strings.
    else if (type.endsWith('.delta')) addText(facts, data.delta);
  },
  interruptedEvent: `event: error\ndata: ${JSON.stringify({ type: 'error', ...INTERRUPTED, param: null })}\n\n`,
};

/**
 * Anthropic's Messages API: `message_start` carries the model and the input tokens, `message_delta` the output
 * tokens so far (and, from OpenRouter, the cost), `content_block_delta` the text; `error` events name a type.
 */
export const ANTHROPIC_MESSAGES_DIALECT: AnswerDialect = {
  usageFields: ANTHROPIC_FIELDS,
  contentChars(json) {
    let chars = 0;
    for (const block of arrayAt(json, 'content')) chars += textLength(at(block, 'text'));
    return chars;
  },
  readEvent(data, facts) {
    switch (data.type) {
      case 'message_start':
        setModel(facts, at(at(data, 'message'), 'model'));
        mergeUsage(facts, at(at(data, 'message'), 'usage'));
        break;
      case 'message_delta':
        mergeUsage(facts, data.usage);
        break;
      case 'content_block_delta': {
        const delta = at(data, 'delta');
        addText(facts, at(delta, 'text'));
        addText(facts, at(delta, 'thinking'));
        addText(facts, at(delta, 'partial_json'));
        break;
      }
      case 'error':
        facts.error = errorOf(at(data, 'error') ?? data, 'type');
        break;
    }
  },
  interruptedEvent: `event: error\ndata: ${JSON.stringify({
    type: 'error',
    error: { type: 'api_error', ...INTERRUPTED },
  })}\n\n`,
};

function at(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function arrayAt(value: unknown, key: string): unknown[] {
  const found = at(value, key);
  return Array.isArray(found) ? found : [];
}

function textLength(value: unknown): number {
  return typeof value === 'string' ? value.length : 0;
}

function addText(facts: StreamFacts, value: unknown): void {
  facts.contentChars += textLength(value);
}

function setModel(facts: StreamFacts, model: unknown): void {
  if (typeof model === 'string' && model) facts.model = model.slice(0, 200);
}

function mergeUsage(facts: StreamFacts, usage: unknown): void {
  if (typeof usage !== 'object' || usage === null || Array.isArray(usage)) return;
  const merged: Record<string, unknown> = { ...facts.usage };
  for (const [name, value] of Object.entries(usage)) if (value !== null && value !== undefined) merged[name] = value;
  facts.usage = merged;
}

/** An upstream error object as the usage record keeps it; its code from `codeField` (Anthropic names a type). */
function errorOf(raw: unknown, codeField: 'code' | 'type'): { code: string; message: string } {
  const e = (typeof raw === 'object' && raw !== null ? raw : { message: String(raw) }) as Record<string, unknown>;
  const code = e[codeField];
  return {
    code: code === undefined || code === null ? 'upstream_stream_error' : String(code).slice(0, 100),
    message: typeof e.message === 'string' ? e.message.slice(0, 500) : 'Upstream error',
  };
}
