import type { LoggerService } from '@nestjs/common';
import type { Logger } from 'pino';

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** Nest's start-up narration (one line per module, controller and route): useful when debugging only. */
const BOOTSTRAP_CHATTER = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer']);

/**
 * Nest's LoggerService on the root pino logger, so `new Logger(Context)` anywhere in the code writes
 * structured lines with `context`. Nothing is bound per request: a line that concerns a request
 * names its `request_id` itself (`logger.error({ err, request_id }, 'message')`).
 *
 * Nest's calling convention: the message (a string, an Error, or an object of fields followed by the
 * message) and then, last, the context name when the Logger has one.
 */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  log(message: unknown, ...params: unknown[]): void {
    const context = params[params.length - 1];
    this.write(typeof context === 'string' && BOOTSTRAP_CHATTER.has(context) ? 'debug' : 'info', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: Level, message: unknown, params: unknown[]): void {
    if (!this.logger.isLevelEnabled(level)) return;
    const fields: Record<string, unknown> = {};
    let rest = params;
    if (params.length > 0) {
      const context = params[params.length - 1];
      if (typeof context === 'string') fields.context = context;
      rest = params.slice(0, -1).filter((p) => p !== undefined);
    }
    if (message instanceof Error) {
      fields.err = message;
      this.logger[level](fields, message.message);
    } else if (message !== null && typeof message === 'object') {
      const text = rest.find((p): p is string => typeof p === 'string');
      this.logger[level](Object.assign(fields, message), text);
    } else if (level === 'error' && typeof rest[0] === 'string' && /\n\s*at /.test(rest[0])) {
      // Nest's own exception handlers pass (message, stack).
      const err = new Error(String(message));
      err.stack = rest[0];
      fields.err = err;
      this.logger.error(fields, String(message));
    } else {
      this.logger[level](fields, String(message));
    }
  }
}
