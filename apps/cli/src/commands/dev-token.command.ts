import { Option } from 'nest-commander';
import { signDevelopmentSessionToken } from '#libs/clerk';
import { AppConfig } from '#libs/config';
import { CliCommand, CliCommandRunner, CliError } from '../cli-command';
import { out } from '../cli-output';

interface Options {
  email?: string;
  firstName?: string;
  lastName?: string;
  org?: string;
  role?: string;
}

const EMAIL = /^[^\s@]+@[^\s@]+$/;
const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

@CliCommand({
  name: 'dev:token',
  description:
    'Development sign-in: print a session token (valid one hour, a new session each time) that the server accepts as a Clerk token while NODE_ENV=development and no CLERK_* variable is set',
  database: false,
})
export class DevTokenCommand extends CliCommandRunner {
  constructor(private readonly config: AppConfig) {
    super();
  }

  run(_args: string[], opts: Options): Promise<void> {
    const key = this.config.developmentSigningKey;
    if (!key) throw new CliError(developmentSignInOff(this.config));
    if (!opts.email) throw new CliError('--email is required');
    if (!EMAIL.test(opts.email)) throw new CliError(`--email: "${opts.email}" is not an email address`);
    if (opts.role !== undefined && opts.org === undefined) throw new CliError('--role needs --org');
    if (opts.org !== undefined && !SLUG.test(opts.org))
      throw new CliError(`--org: "${opts.org}" is not a slug (lower-case letters, digits and hyphens)`);
    const role = opts.role ?? 'member';
    if (role !== 'admin' && role !== 'member') throw new CliError(`--role: "${role}" is not admin or member`);
    out(
      signDevelopmentSessionToken(key.privateKeyPem, {
        email: opts.email,
        firstName: opts.firstName,
        lastName: opts.lastName,
        organization: opts.org === undefined ? undefined : { slug: opts.org, role },
      }),
    );
    return Promise.resolve();
  }

  @Option({ flags: '--email <email>', description: 'the user signing in (required); one email is always one user' })
  parseEmail(value: string): string {
    return value;
  }

  @Option({ flags: '--first-name <name>', description: 'first name claim' })
  parseFirstName(value: string): string {
    return value;
  }

  @Option({ flags: '--last-name <name>', description: 'last name claim' })
  parseLastName(value: string): string {
    return value;
  }

  @Option({ flags: '--org <slug>', description: 'an organization (its slug): the token makes its tenant active' })
  parseOrg(value: string): string {
    return value;
  }

  @Option({ flags: '--role <role>', description: 'admin or member in --org (default: member)' })
  parseRole(value: string): string {
    return value;
  }
}

function developmentSignInOff(config: AppConfig): string {
  const why =
    config.env.NODE_ENV !== 'development'
      ? `NODE_ENV is ${config.env.NODE_ENV}, not development`
      : 'a CLERK_* variable is set (Clerk signs users in)';
  return `development sign-in is off: ${why}. It needs NODE_ENV=development and no CLERK_* variable, for the server and this command alike`;
}
