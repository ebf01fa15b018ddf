import { Option } from 'nest-commander';
import { AdminKeyRefresh } from '#libs/admin';
import { cliActor } from '../cli-actor';
import { CliCommand, CliCommandRunner } from '../cli-command';
import { out, printJson } from '../cli-output';

@CliCommand({
  name: 'users:refresh-openrouter-key',
  arguments: '<user>',
  argsDescription: { user: 'user id, Clerk user id (user_…) or email' },
  description: "Replace a user's OpenRouter key: the new key is stored first, then the old one deleted upstream",
})
export class UsersRefreshKeyCommand extends CliCommandRunner {
  constructor(private readonly refresher: AdminKeyRefresh) {
    super();
  }

  async run([userRef]: string[], opts: { json?: boolean }): Promise<void> {
    const user = await this.refresher.refresh(userRef, cliActor());
    if (opts.json) return printJson(user);
    out(`Refreshed the OpenRouter key of ${user.email ?? user.id} (${user.id}).`);
    out(`  key:    ${user.openrouter_key?.label ?? '-'} (hash ${user.openrouter_key?.hash ?? '-'})`);
    out(`  status: ${user.openrouter_key?.status ?? 'none'}`);
  }

  @Option({ flags: '--json', description: 'print JSON' })
  parseJson(): boolean {
    return true;
  }
}
