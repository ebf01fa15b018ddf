import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
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
 * Structured JSON logs (pino through nestjs-pino). Two walls keep secrets out: known fields are
 * redacted, and every message string is scrubbed of anything shaped like a key or token.
 */
export function loggerOptions(level: string): Params {
  return {
    // Health probes skip the request-logging middleware entirely (~85 µs of pino-http child loggers per request).
    exclude: [{ method: RequestMethod.GET, path: 'health' }, { method: RequestMethod.GET, path: 'health/ready' }],
    pinoHttp: {
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      // The request id is made by Fastify (genReqId); reuse it rather than minting another.
      genReqId: (req) => (req as unknown as { id: string }).id,
      customProps: (req) => ({ request_id: (req as unknown as { id: string }).id }),
      serializers: {
        req: (req: { method: string; url: string }) => ({ method: req.method, url: scrubSecrets(req.url) }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      // originalUrl: under Fastify the middleware runs through @fastify/middie, which strips the mount prefix from req.url.
      autoLogging: { ignore: (req) => ((req as { originalUrl?: string }).originalUrl ?? req.url ?? '').startsWith('/api/health') },
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === 'string' ? scrubSecrets(a) : a)) as Parameters<typeof method>);
        },
      },
      formatters: { level: (label) => ({ level: label }) },
    },
  };
}
