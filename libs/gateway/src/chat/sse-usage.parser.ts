import { StringDecoder } from 'node:string_decoder';
import { TokenUsage, parseUsage } from '../proxy/token-usage';

/** An event larger than this is not a chat chunk we need to read; it is passed on, not parsed. */
const MAX_EVENT_CHARS = 1024 * 1024;

export interface StreamError {
  code: string;
  message: string;
}

/**
 * Watches a chat completion's (or completion's) server-sent events go by, without changing them, for what the gateway
 * needs: the usage of the final chunk, the model, an error sent mid-stream (`data: {"error": …}`), and
 * how much text was generated (to estimate usage when the stream ends early). Comments such as
 * `: OPENROUTER PROCESSING` are skipped.
 */
export class SseUsageParser {
  usage: TokenUsage | null = null;
  model: string | null = null;
  error: StreamError | null = null;
  done = false;
  contentChars = 0;

  private readonly decoder = new StringDecoder('utf8');
  private buffer = '';

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
    let chunk: Record<string, unknown>;
    try {
      chunk = JSON.parse(data);
    } catch {
      return;
    }
    if (typeof chunk !== 'object' || chunk === null) return;
    if (typeof chunk.model === 'string' && chunk.model) this.model = chunk.model;
    const usage = parseUsage(chunk.usage);
    if (usage) this.usage = usage;
    if (chunk.error !== undefined && chunk.error !== null) this.error = streamError(chunk.error);
    if (Array.isArray(chunk.choices)) {
      for (const choice of chunk.choices as { delta?: { content?: unknown; reasoning?: unknown }; text?: unknown }[]) {
        // A completion chunk (`/completions`) carries `text` rather than a delta.
        if (typeof choice?.text === 'string') this.contentChars += choice.text.length;
        const delta = choice?.delta;
        if (typeof delta?.content === 'string') this.contentChars += delta.content.length;
        if (typeof delta?.reasoning === 'string') this.contentChars += delta.reasoning.length;
      }
    }
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

function streamError(raw: unknown): StreamError {
  const e = (typeof raw === 'object' && raw !== null ? raw : { message: String(raw) }) as Record<string, unknown>;
  const code = e.code === undefined || e.code === null ? 'upstream_stream_error' : String(e.code);
  return { code, message: typeof e.message === 'string' ? e.message.slice(0, 500) : 'Upstream error' };
}
