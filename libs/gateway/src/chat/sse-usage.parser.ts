import { StringDecoder } from 'node:string_decoder';
import { AnswerDialect, CHAT_COMPLETIONS_DIALECT, StreamFacts } from '../proxy/answer-dialects';
import { TokenUsage, parseUsage } from '../proxy/token-usage';

/** An event larger than this is not a chat chunk we need to read; it is passed on, not parsed. */
const MAX_EVENT_CHARS = 1024 * 1024;

export interface StreamError {
  code: string;
  message: string;
}

/**
 * Watches a stream's server-sent events go by, without changing them, for what the gateway needs: the usage,
 * the model, an error sent mid-stream, and how much text was generated (to estimate usage when the stream ends
 * early). What each event means is the dialect's (chat completions, Responses API, Anthropic Messages); the
 * framing is SSE's for all: `event:`/`id:` lines and comments such as `: OPENROUTER PROCESSING` are skipped.
 */
export class SseUsageParser {
  done = false;

  private readonly facts: StreamFacts = { usage: null, model: null, error: null, contentChars: 0 };
  private readonly decoder = new StringDecoder('utf8');
  private buffer = '';

  constructor(private readonly dialect: AnswerDialect = CHAT_COMPLETIONS_DIALECT) {}

  get usage(): TokenUsage | null {
    return parseUsage(this.facts.usage, this.dialect.usageFields);
  }

  get model(): string | null {
    return this.facts.model;
  }

  get error(): StreamError | null {
    return this.facts.error;
  }

  get contentChars(): number {
    return this.facts.contentChars;
  }

  push(chunk: Buffer | string): void {
    this.buffer += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    for (;;) {
      const end = eventEnd(this.buffer);
      if (end === null) break;
      this.onEvent(this.buffer.slice(0, end.at));
      this.buffer = this.buffer.slice(end.at + end.length);
    }
    if (this.buffer.length > MAX_EVENT_CHARS) this.buffer = '';
  }

  /** The stream ended: a last event without its blank line still counts. */
  end(): void {
    this.buffer += this.decoder.end();
    if (this.buffer.trim()) this.onEvent(this.buffer);
    this.buffer = '';
  }

  private onEvent(event: string): void {
    let data = '';
    let hasData = false;
    for (const rawLine of event.split('\n')) {
      const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
      if (!line.startsWith('data:')) continue; // comments (":…"), event:, id:, retry:
      data += (hasData ? '\n' : '') + line.slice(line.charCodeAt(5) === 32 ? 6 : 5);
      hasData = true;
    }
    if (!hasData) return;
    if (data === '[DONE]') {
      this.done = true;
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      return;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return;
    this.dialect.readEvent(parsed as Record<string, unknown>, this.facts);
  }
}

/** The blank line that ends an event: `\n\n`, or `\r\n\r\n` from servers that use CRLF. */
function eventEnd(buffer: string): { at: number; length: number } | null {
  const lf = buffer.indexOf('\n\n');
  const crlf = buffer.indexOf('\r\n\r\n');
  if (lf < 0 && crlf < 0) return null;
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { at: crlf, length: 4 };
  return { at: lf, length: 2 };
}
