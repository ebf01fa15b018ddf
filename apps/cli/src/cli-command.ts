import type { Command } from 'commander';
import { Command as NestCommand, CommandRunner, type CommandMetadata } from 'nest-commander';

/** Names of every command, so that main.ts knows without booting the database whether one is asked for. */
export const COMMAND_NAMES = new Set<string>();
/** Commands that need only the configuration, never the database (see main.ts). */
export const COMMANDS_WITHOUT_DATABASE = new Set<string>();

/** `@Command` that also registers the name (see COMMAND_NAMES); `database: false` for a command that needs none. */
export function CliCommand({ database, ...meta }: CommandMetadata & { database?: false }): ClassDecorator {
  COMMAND_NAMES.add(meta.name);
  if (database === false) COMMANDS_WITHOUT_DATABASE.add(meta.name);
  return NestCommand(meta) as ClassDecorator;
}

/** A failure the operator can act on: printed as one line, exit code 1. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/**
 * Base of every command. nest-commander builds subcommands with `new Command()`, which does not
 * inherit the root's exit override: without this, a usage error in a subcommand (a missing argument)
 * would call process.exit at once, before the database is closed.
 */
export abstract class CliCommandRunner extends CommandRunner {
  override setCommand(command: Command): this {
    command.exitOverride((err) => {
      throw err;
    });
    command.showHelpAfterError('(add --help for usage)');
    return super.setCommand(command);
  }
}
