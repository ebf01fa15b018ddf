import { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { scrubSecrets } from '../redaction/secret-text';

/**
 * Fastify's per-request logger: the root logger itself instead of a child bound to the request id.
 * Fastify would otherwise create a pino child for every request, logged or not; the lines Fastify
 * writes itself go through AccessLogController below, which names the request id explicitly.
 */
export function sharedRequestLogger(logger: FastifyBaseLogger): FastifyBaseLogger {
  return logger;
}

/** Health probes are not logged: they would drown everything else. */
const UNLOGGED_PREFIX = '/api/health';
/**
 * URLs are logged up to this long (after scrubbing, so that no fragment of a key is left at the cut): a
 * URL of many kilobytes says nothing more, and a line must stay well under a 4 KiB block (see logger.options).
 */
const MAX_LOGGED_URL = 1024;

/** A URL as log lines show it: secret-shaped text masked, cut to MAX_LOGGED_URL characters. */
export function loggableUrl(url: string): string {
  const scrubbed = scrubSecrets(url);
  return scrubbed.length <= MAX_LOGGED_URL ? scrubbed : `${scrubbed.slice(0, MAX_LOGGED_URL)}…`;
}

/**
 * One access line per request, when the response is done, instead of Fastify's two ("incoming
 * request", "request completed"). Built from known-safe fields only — method, URL (scrubbed of
 * secret-shaped text, for keys pasted into paths and query strings), status, time, request id — on the access
 * logger, which has no redaction to run. Fastify's own error lines carry the request id too.
 */
export class AccessLogController extends LogController {
  constructor(
    private readonly access: Logger,
    private readonly root: Logger,
  ) {
    super({ requestIdLogLabel: 'request_id' });
  }

  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, req: FastifyRequest, reply: FastifyReply): void {
    const url = req.url;
    if (url.startsWith(UNLOGGED_PREFIX)) return;
    const status = reply.statusCode;
    const level = error || status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
    if (!this.access.isLevelEnabled(level)) return;
    this.access[level](
      {
        request_id: req.id,
        method: req.method,
        url: loggableUrl(url),
        status,
        response_time_ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request completed',
    );
  }

  /** The root logger scrubs the error and its message (Fastify's own messages may quote the URL). */
  override defaultErrorLog(error: Error, req: FastifyRequest, reply: FastifyReply): void {
    const level = reply.statusCode >= 500 ? 'error' : 'info';
    this.root[level]({ request_id: req.id, status: reply.statusCode, err: error }, error?.message);
  }

  override streamError(error: Error & { code?: string }, req: FastifyRequest): void {
    if (error?.code === 'ERR_STREAM_PREMATURE_CLOSE') {
      this.root.info({ request_id: req.id }, 'stream closed prematurely');
    } else {
      this.root.warn({ request_id: req.id, err: error }, 'response terminated with an error with headers already sent');
    }
  }

  override writeHeadError(error: Error, req: FastifyRequest): void {
    this.root.warn({ request_id: req.id, err: error }, 'the response headers could not be written');
  }

  override serializerError(
    error: Error,
    req: FastifyRequest,
    _reply: FastifyReply,
    meta: { statusCode: number },
  ): void {
    this.root.error(
      { request_id: req.id, err: error, statusCode: meta?.statusCode },
      'The serializer for the given status code failed',
    );
  }
}
