import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Params } from 'nestjs-pino';
import pino, { type Logger, type LoggerOptions } from 'pino';
import { scrubSecrets } from '../crypto/mask';

/** Header and field paths that hold secrets; pino replaces them before a line is written. */
const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'req.headers["svix-signature"]',
  'res.headers["set-cookie"]',
  '*.key',
  '*.api_key',
  '*.apiKey',
  '*.token',
  '*.password',
  '*.secret',
  '*.openrouter_api_key',
  '*.provisioningKey',
];

/**
 * Structured JSON logs (pino). One root logger serves Fastify (a child per request carrying its
 * `request_id`) and Nest (through nestjs-pino, bound to the request's child). Two walls keep secrets
 * out: known fields are redacted, and every message string is scrubbed of anything shaped like a key
 * or token.
 */
export function pinoOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? scrubSecrets(a) : a)) as Parameters<typeof method>);
      },
    },
    formatters: { level: (label) => ({ level: label }) },
  };
}

/** nestjs-pino on Fastify's own per-request logger: no second HTTP logger (pino-http) per request. */
export function loggerModuleParams(level: string): Params {
  return { pinoHttp: pinoOptions(level), useExisting: true };
}

/**
 * One access line per request, when the response is done, instead of Fastify's two
 * ("incoming request", "request completed"). Health probes are not logged: they would drown
 * everything else.
 */
export class AccessLogController extends LogController {
  constructor() {
    super({ requestIdLogLabel: 'request_id' });
  }

  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, req: FastifyRequest, reply: FastifyReply): void {
    const url = req.url;
    if (url.startsWith('/api/health')) return;
    const status = reply.statusCode;
    const level = error || status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
    if (!(req.log as unknown as Logger).isLevelEnabled(level)) return;
    req.log[level](
      {
        req: { method: req.method, url: scrubSecrets(url) },
        res: { statusCode: status },
        response_time_ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request completed',
    );
  }
}

/**
 * The root logger. Lines go out asynchronously (writes coalesce under load instead of one
 * syscall per line); whatever is buffered is flushed when the process exits.
 */
export function createRootLogger(level: string): Logger {
  return pino(pinoOptions(level), pino.destination({ dest: 1, sync: false }));
}
