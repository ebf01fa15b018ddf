import { PassThrough, type Readable } from 'node:stream';
import { AnswerDialect, CHAT_COMPLETIONS_DIALECT } from '../proxy/answer-dialects';
import { TokenUsage } from '../proxy/token-usage';
import { SseUsageParser, StreamError } from './sse-usage.parser';

export type RelayOutcome = 'completed' | 'client_aborted' | 'upstream_failed';

export interface RelayResult {
  outcome: RelayOutcome;
  usage: TokenUsage | null;
  model: string | null;
  /** An error event sent by the upstream mid-stream. */
  error: StreamError | null;
  /** Characters of generated text relayed, to estimate usage when none came. */
  contentChars: number;
}

export interface Relay {
  /** What the caller receives: the upstream bytes as they arrive. */
  readonly body: PassThrough;
  /** Settles once the stream is over, whichever way. Never rejects. */
  readonly done: Promise<RelayResult>;
}

/**
 * Relays a server-sent-event stream from OpenRouter to the caller unchanged, chunk by chunk, with
 * back-pressure (the upstream is paused while the caller's socket is full), reading usage on the way.
 * When the caller goes away (Fastify destroys `body`) the upstream stream is destroyed, which closes the
 * upstream request so that OpenRouter stops generating.
 */
export function relaySse(
  upstream: NodeJS.ReadableStream,
  callerGone?: AbortSignal,
  dialect: AnswerDialect = CHAT_COMPLETIONS_DIALECT,
): Relay {
  const source = upstream as Readable;
  const body = new PassThrough();
  const parser = new SseUsageParser(dialect);
  let resolve!: (result: RelayResult) => void;
  const done = new Promise<RelayResult>((r) => (resolve = r));
  let finished = false;

  const finish = (outcome: RelayOutcome) => {
    if (finished) return;
    finished = true;
    parser.end();
    source.off('data', onData);
    body.off('drain', onDrain);
    resolve({
      outcome,
      usage: parser.usage,
      model: parser.model,
      error: parser.error,
      contentChars: parser.contentChars,
    });
  };

  const onData = (chunk: Buffer) => {
    parser.push(chunk);
    if (!body.write(chunk)) source.pause();
  };
  const onDrain = () => source.resume();

  source.on('data', onData);
  body.on('drain', onDrain);
  // The caller's end comes after whoever awaits `done` (registered before the stream ended) has run: what
  // they settle and record is in the crash journal before the last bytes leave.
  source.once('end', () => {
    finish('completed');
    void done.then(() => body.end());
  });
  // `on`, not `once`: an error after the end must not go unhandled. The client's stream errors are
  // OpenRouterErrors (no secrets); the caller gets a final error event.
  source.on('error', () => {
    if (finished) return;
    // Destroying the upstream because the caller left also errors it: that is still the caller's doing.
    if (callerGone?.aborted || body.destroyed) {
      finish('client_aborted');
      return;
    }
    finish('upstream_failed');
    void done.then(() => {
      if (!body.destroyed && !body.writableEnded) body.end(dialect.interruptedEvent);
    });
  });
  body.once('close', () => {
    if (finished) return;
    // The caller went away before the upstream finished: stop generating.
    finish('client_aborted');
    source.destroy();
  });
  return { body, done };
}
