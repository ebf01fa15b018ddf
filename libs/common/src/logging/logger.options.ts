import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
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

export type LogFormat = 'json' | 'pretty';

/**
 * Human-readable lines for a person at a terminal, JSON for everything else (files, pipes, log
 * collectors): decided once at start-up from whether stdout is a TTY.
 */
export function logFormatFor(stdout: { isTTY?: boolean }): LogFormat {
  return stdout.isTTY === true ? 'pretty' : 'json';
}

/**
 * Options of the application logger. Two walls keep secrets out of what the code logs: known fields
 * are redacted, and every message string is scrubbed of anything shaped like a key or token.
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

/**
 * The access logger writes lines built from known-safe fields only (method, scrubbed URL, status,
 * timing, request id), so it needs neither redaction nor the scrubbing hook: nothing to pay per line.
 */
function accessOptions(level: string): LoggerOptions {
  return { level, formatters: { level: (label) => ({ level: label }) } };
}

export interface AppLoggers {
  /** Everything the code logs (through Nest's Logger): redacted and scrubbed. */
  readonly root: Logger;
  /** One line per request, from known-safe fields. Same destination as `root`. */
  readonly access: Logger;
}

/**
 * Both loggers on one destination. JSON lines go out asynchronously (writes coalesce under load
 * instead of one syscall per line; pino flushes what is buffered when the process exits). Pretty
 * lines are for a terminal, where ordering with other output matters more than throughput.
 */
export function createLoggers(level: string, format: LogFormat = logFormatFor(process.stdout)): AppLoggers {
  const destination: DestinationStream =
    format === 'pretty'
      ? // eslint-disable-next-line @typescript-eslint/no-require-imports
        (require('pino-pretty') as (o: object) => DestinationStream)({
          colorize: true,
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname',
          sync: true,
        })
      : pino.destination({ dest: 1, sync: false });
  return { root: pino(pinoOptions(level), destination), access: pino(accessOptions(level), destination) };
}
