import type { LoggerService } from '@nestjs/common';
import { scrubSecrets } from '#libs/common';

/**
 * The libraries' log lines for a command line: warnings and errors on stderr, one line each, secrets
 * scrubbed. Informational lines only with LOG_LEVEL=debug (or trace), so that stdout holds only the
 * command's own output.
 */
export class CliLogger implements LoggerService {
  constructor(private readonly showInfo = false) {}

  log(message: unknown, context?: string): void {
    if (this.showInfo) this.write('info', message, context);
  }
  warn(message: unknown, context?: string): void {
    this.write('warn', message, context);
  }
  error(message: unknown, ...rest: unknown[]): void {
    const context = rest.find((r): r is string => typeof r === 'string' && !r.includes('\n'));
    this.write('error', message, context);
  }
  debug(): void {}
  verbose(): void {}

  private write(level: string, message: unknown, context?: string): void {
    const text =
      message instanceof Error ? message.message : typeof message === 'string' ? message : JSON.stringify(message);
    process.stderr.write(`${level}${context ? ` [${context}]` : ''}: ${scrubSecrets(String(text))}\n`);
  }
}
