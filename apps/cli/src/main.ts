import 'reflect-metadata';
import { loadDotEnv } from '#libs/config';
loadDotEnv();
import type { INestApplicationContext } from '@nestjs/common';
import { CommanderError } from 'commander';
import { CommandFactory } from 'nest-commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { AppError } from '#libs/common';
// The class only: the libraries' modules validate the environment as they load, and would crash the
// process with a stack trace instead of the one-line reason an operator should get.
import { AppConfig } from '#libs/config';
import { DatabaseEndpoint, embeddedServerAnswers, openDatabaseEndpoint } from '#libs/database';
import { COMMAND_NAMES, COMMANDS_WITHOUT_DATABASE, CliError } from './cli-command';
import { CliLogger } from './cli-logger';
import type { CliModule as CliModuleType } from './cli.module';

const CLI_NAME = 'npm run cli --';
/** Exit at the latest this long after the work is done, should a library leave a handle open. */
const EXIT_GRACE_MS = 3000;

/** `npm run cli -- <command>`: one command, then exit (0 on success, 1 with a one-line reason otherwise). */
async function main(argv: string[]): Promise<number> {
  const args = argv.slice(2);
  let exitCode = 0;
  const fail = (err: unknown) => {
    exitCode = reportFailure(err);
  };
  const options = {
    cliName: CLI_NAME,
    errorHandler: (err: Error) => {
      throw err;
    },
    serviceErrorHandler: fail,
  };

  let config: AppConfig;
  try {
    config = new AppConfig();
  } catch (err) {
    return reportFailure(err);
  }
  // Loaded once the environment is known to be valid (see the AppConfig import above).
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only once the environment is valid
  const { CliModule } = require('./cli.module') as { CliModule: typeof CliModuleType };

  if (needsOnlyUsage(args)) {
    // Usage needs no database: answered even while the server holds the embedded one.
    const app = await CommandFactory.createWithoutRunning(CliModule.forHelp(), { ...options, logger: new CliLogger() });
    await runAndClose(app);
    return exitCode;
  }

  if (COMMANDS_WITHOUT_DATABASE.has(args[0])) {
    const app = await CommandFactory.createWithoutRunning(CliModule.forConfigOnly(config), {
      ...options,
      logger: new CliLogger(),
    });
    await runAndClose(app);
    return exitCode;
  }

  let endpoint: DatabaseEndpoint | undefined;
  let app: INestApplicationContext | undefined;
  try {
    if (!config.databaseUrl && !(await embeddedServerAnswers(config.dataDir))) refuseEmbeddedInUse(config.dataDir);
    endpoint = await openDatabaseEndpoint({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      poolSize: 2,
      joinRunningServer: true,
    });
    if (!endpoint.embedded) await probeDatabase(endpoint.url);
    const logger = new CliLogger(config.logLevel === 'debug' || config.logLevel === 'trace');
    app = await CommandFactory.createWithoutRunning(CliModule.forRoot(endpoint), {
      ...options,
      logger,
      abortOnError: false,
    });
  } catch (err) {
    fail(err);
    await app?.close().catch(() => undefined);
    await endpoint?.close().catch(() => undefined);
    return exitCode;
  }
  await runAndClose(app);
  await endpoint.close().catch(() => undefined);
  return exitCode;
}

async function runAndClose(app: INestApplicationContext): Promise<void> {
  try {
    await CommandFactory.runApplication(app);
  } finally {
    await app.close();
  }
}

/**
 * Fails fast, in one line, when the database cannot be reached: the data source would otherwise retry
 * for half a minute, as suits a server waiting for its database but not an operator at a shell. Connecting is
 * the whole probe (no statement): the server checks the credentials and opens the database before it answers.
 */
async function probeDatabase(url: string): Promise<void> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    throw new CliError(databaseFailure(url, err));
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** What went wrong in words an operator acts on; the URL is shown without its password. */
function databaseFailure(url: string, err: unknown): string {
  const code = (err as { code?: string }).code;
  let where = 'the database server';
  let name = '';
  try {
    const u = new URL(url);
    name = decodeURIComponent(u.pathname.replace(/^\//, '')) || decodeURIComponent(u.username) || 'postgres';
    where = `${u.hostname}:${u.port || 5432}`;
  } catch {
    // An unparsable URL still gets the generic message below.
  }
  switch (code) {
    case '3D000':
      return `the database "${name}" does not exist on ${where}: create it (createdb ${name}) or fix DATABASE_URL`;
    case '28P01':
    case '28000':
      return `${where} refused the credentials in DATABASE_URL (${code})`;
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'ETIMEDOUT':
      return `cannot reach the database server at ${where} (${code}); is it running? check DATABASE_URL`;
    default:
      return `cannot use the database at ${where} (${code ?? (err as Error).message}); check DATABASE_URL`;
  }
}

/**
 * PGlite's files serve one process. A running server serves them to the command line on its socket (see
 * openDatabaseEndpoint); files held open by a process that does not answer there (a server still starting, or
 * one that crashed and left `postmaster.pid`) are not opened a second time.
 */
function refuseEmbeddedInUse(dataDir: string): void {
  const pidFile = join(dataDir, 'pglite', 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  throw new CliError(
    `the embedded database under ${dataDir} is held by a process that does not serve it (a server still starting?): ` +
      `try again once the server is up. If nothing uses it (the server crashed), start and stop the server once, or delete ${pidFile}`,
  );
}

/** No command, a help request, or a word that is no command: commander answers from the definitions alone. */
function needsOnlyUsage(args: string[]): boolean {
  if (args.length === 0) return true;
  if (args.includes('-h') || args.includes('--help') || args[0] === 'help') return true;
  return !COMMAND_NAMES.has(args[0]);
}

/** One line on stderr; the exit code. Commander has already printed its own usage errors. */
function reportFailure(err: unknown): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
    if (err.code === 'commander.help') return err.exitCode;
    return err.exitCode || 1;
  }
  process.stderr.write(`error: ${describe(err)}\n`);
  return err instanceof CliError ? err.exitCode : 1;
}

function describe(err: unknown): string {
  if (err instanceof AppError) return `${err.message} (${err.code})`;
  if (err instanceof CliError) return err.message;
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const first = err.message
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .join('; ')
      .replace(/:; /g, ': ');
    return typeof code === 'string' && !first.includes(code) ? `${first} (${code})` : first;
  }
  return String(err);
}

void main(process.argv)
  .catch((err) => reportFailure(err))
  .then((code) => {
    process.exitCode = code;
    setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
  });
