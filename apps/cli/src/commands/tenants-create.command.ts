import { Option } from 'nest-commander';
import { CreateTenantDto, MembersService, TenantCommands } from '#libs/tenants';
import { cliActor } from '../cli-actor';
import { CliCommand, CliCommandRunner, CliError } from '../cli-command';
import { CliLookup, validateLike } from '../cli-lookup';
import { out, printJson } from '../cli-output';

interface Options {
  owner?: string;
  slug?: string;
  json?: boolean;
}

@CliCommand({
  name: 'tenants:create',
  arguments: '<name>',
  argsDescription: { name: 'display name, e.g. "Acme Inc."' },
  description: 'Create a tenant owned by a user (an unknown email is invited: they own it from their first sign-in)',
})
export class TenantsCreateCommand extends CliCommandRunner {
  constructor(
    private readonly lookup: CliLookup,
    private readonly tenants: TenantCommands,
    private readonly members: MembersService,
  ) {
    super();
  }

  async run([name]: string[], opts: Options): Promise<void> {
    if (!opts.owner) throw new CliError('--owner is required (a user id, Clerk id or email)');
    const input = await validateLike(
      CreateTenantDto,
      { name, ...(opts.slug !== undefined ? { slug: opts.slug } : {}) },
      { name: '<name>', slug: '--slug' },
    );
    const owner = await this.owner(opts.owner);
    const tenant = await this.tenants.create(
      owner.id,
      { name: input.name, slug: input.slug },
      { actor: cliActor(), requestId: null },
    );
    const result = {
      id: tenant.id,
      name: tenant.name,
      slug: tenant.slug,
      owner: { id: owner.id, email: owner.email, pending: owner.pending },
      created_at: new Date(tenant.createdAt).toISOString(),
    };
    if (opts.json) return printJson(result);
    out(`Created tenant ${result.slug} (${result.id}).`);
    out(`  name:  ${result.name}`);
    out(`  owner: ${owner.email ?? owner.id}${owner.pending ? ' (invited; joins at first sign-in)' : ''}`);
  }

  /** An existing user, or for an unknown email a pending (invited) one, as when adding a member. */
  private async owner(ref: string): Promise<{ id: string; email: string | null; pending: boolean }> {
    const user = await this.lookup.user(ref);
    if (user) return { id: user.id, email: user.email, pending: user.status === 'pending' };
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(ref))
      throw new CliError(`unknown user "${ref}" (give their id, Clerk id or email)`);
    const invitee = await this.members.invite(ref);
    return { id: invitee.id, email: ref.trim().toLowerCase(), pending: invitee.status === 'pending' };
  }

  @Option({ flags: '--owner <user>', description: 'the owner: user id, Clerk id (user_…) or email (required)' })
  parseOwner(value: string): string {
    return value;
  }

  @Option({ flags: '--slug <slug>', description: 'lower-case letters, digits and hyphens (default: from the name)' })
  parseSlug(value: string): string {
    return value;
  }

  @Option({ flags: '--json', description: 'print JSON' })
  parseJson(): boolean {
    return true;
  }
}
