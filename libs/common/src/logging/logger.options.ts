import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { loggableError } from '../redaction/loggable-error';
import { scrubSecrets } from '../redaction/secret-text';

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
 * Options of the application logger. Three walls keep secrets out of what the code logs: known fields
 * are redacted; every message string, and every string field of a line (a `path`, a `url`), is scrubbed
 * of anything shaped like a key or token; an error logged as `err` shows only its scrubbed text.
 */
export function pinoOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: { err: scrubbedError },
    hooks: {
      logMethod(args, method) {
        method.apply(this, scrubbedArguments(args) as Parameters<typeof method>);
      },
    },
    formatters: { level: (label) => ({ level: label }) },
  };
}

function scrubbedArguments(args: unknown[]): unknown[] {
  const [first, ...rest] = args;
  // pino would take an Error's own message as the line's message, unscrubbed.
  if (first instanceof Error && typeof rest[0] !== 'string') return [{ err: first }, scrubSecrets(first.message)];
  return args.map((a, i) => (typeof a === 'string' ? scrubSecrets(a) : i === 0 ? scrubbedFields(a) : a));
}

/** The line's own fields, shallow: a copy only when one of its strings held something to scrub. */
function scrubbedFields(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return value;
  const fields = value as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(fields)) {
    const v = fields[key];
    if (typeof v !== 'string') continue;
    const scrubbed = scrubSecrets(v);
    if (scrubbed !== v) (out ??= { ...fields })[key] = scrubbed;
  }
  return out ?? fields;
}

/** An Error's type, message, stack and codes, scrubbed (see loggableError); anything else as it is. */
function scrubbedError(err: unknown): unknown {
  return err instanceof Error ? loggableError(err) : err;
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
  /** One line per request, from known-safe fields, buffered; on the same file descriptor as `root`. */
  readonly access: Logger;
}

/**
 * Access lines are written in blocks once this many bytes wait (about a dozen lines), each block at most
 * MAX_BLOCK_BYTES (whole lines: a pipe writes up to 4 KiB atomically, so blocks never interleave with the
 * other logger's lines), or every FLUSH_MS when traffic is light.
 */
const ACCESS_BUFFER_BYTES = 3072;
const MAX_BLOCK_BYTES = 4096;
const FLUSH_MS = 1000;

/**
 * The two loggers' destinations. What the code logs goes out at once (asynchronously: writes coalesce
 * under load). Access lines are buffered, as nginx's buffered access_log is: a write per line cost a
 * syscall and a thread-pool hop per request. pino flushes both synchronously when the process exits
 * (after an uncaught exception too); a SIGKILL or a native crash loses at most the last second of access
 * lines. Pretty lines are for a terminal, where ordering with other output matters more than throughput:
 * one synchronous destination.
 */
export function createLoggers(level: string, format: LogFormat = logFormatFor(process.stdout)): AppLoggers {
  if (format === 'pretty') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pretty = (require('pino-pretty') as (o: object) => DestinationStream)({
      colorize: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
      // One line per entry: an access line's fields follow its message instead of a block below it.
      singleLine: true,
      sync: true,
    });
    return { root: pino(pinoOptions(level), pretty), access: pino(accessOptions(level), pretty) };
  }
  const buffered = pino.destination({
    dest: 1,
    sync: false,
    minLength: ACCESS_BUFFER_BYTES,
    maxWrite: MAX_BLOCK_BYTES,
    periodicFlush: FLUSH_MS,
  });
  return {
    root: pino(pinoOptions(level), pino.destination({ dest: 1, sync: false })),
    access: pino(accessOptions(level), buffered),
  };
}
