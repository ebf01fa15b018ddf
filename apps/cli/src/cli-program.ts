import { Injectable, OnModuleInit } from '@nestjs/common';
import type { Command } from 'commander';
import { InjectCommander } from 'nest-commander';

const HELP_AFTER = `
Examples:
  npm run cli -- tenants:create "Acme Corp" --owner ops@acme.test
  npm run cli -- api-keys:create acme-corp --name ci --user ops@acme.test --scopes chat,usage:read
  npm run cli -- api-keys:list acme-corp
  npm run cli -- api-keys:revoke acme-corp <key id>
  npm run cli -- users:refresh-openrouter-key someone@acme.test
  npm run cli -- openrouter:reconcile --dry-run
  npm run cli -- secrets:reseal
  npm run cli -- stats --json
  npm run -s cli -- dev:token --email you@example.com

Configuration is the server's (environment or .env): DATABASE_URL, or the embedded database under
DATA_DIR; ENCRYPTION_KEY (and ENCRYPTION_KEY_PREVIOUS while rotating); OPENROUTER_PROVISIONING_API_KEY
and OPENROUTER_BASE_URL. While the server runs on the embedded database, commands reach it through the
server's socket in DATA_DIR.
Every change a command makes is written to the audit trail with actor type "cli".
Exit status: 0 on success, 1 with a one-line reason on stderr otherwise.`;

/** Name, description and help text of the program itself. */
@Injectable()
export class CliProgram implements OnModuleInit {
  constructor(@InjectCommander() private readonly program: Command) {}

  onModuleInit(): void {
    this.program
      .name('npm run cli --')
      .description(
        'Operate the user management backend from a shell: tenants, API keys, users, OpenRouter keys, audit trail.',
      )
      .showHelpAfterError('(add --help for usage)')
      .addHelpText('after', HELP_AFTER);
  }
}
