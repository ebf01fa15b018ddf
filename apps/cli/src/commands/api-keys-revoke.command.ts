import { Option } from 'nest-commander';
import { ApiKeyRepository, ApiKeyRevoker, toApiKeyResponse, NO_USAGE } from '#libs/api-keys';
import { isUuid } from '#libs/common';
import { cliActor } from '../cli-actor';
import { CliCommand, CliCommandRunner, CliError } from '../cli-command';
import { CliLookup } from '../cli-lookup';
import { out, printJson } from '../cli-output';

@CliCommand({
  name: 'api-keys:revoke',
  arguments: '<tenant> <keyId>',
  argsDescription: { tenant: 'tenant id or slug', keyId: 'the key id (see api-keys:list)' },
  description: 'Revoke a tenant API key: refused from the next request on, on every instance',
})
export class ApiKeysRevokeCommand extends CliCommandRunner {
  constructor(
    private readonly lookup: CliLookup,
    private readonly keys: ApiKeyRepository,
    private readonly revoker: ApiKeyRevoker,
  ) {
    super();
  }

  async run([tenantRef, keyId]: string[], opts: { json?: boolean }): Promise<void> {
    const tenant = await this.lookup.tenant(tenantRef);
    const unknown = new CliError(`unknown API key "${keyId}" in tenant ${tenant.slug} (see api-keys:list)`);
    if (!isUuid(keyId)) throw unknown;
    const before = await this.keys
      .forTenant(tenant.id)
      .get(keyId)
      .catch(() => null);
    if (!before) throw unknown;
    const wasRevoked = toApiKeyResponse(before, NO_USAGE).status === 'revoked';
    if (!wasRevoked) await this.revoker.revoke(tenant.id, keyId, { actor: cliActor(), requestId: null });
    const after = toApiKeyResponse(await this.keys.forTenant(tenant.id).get(keyId), NO_USAGE);
    if (opts.json)
      return printJson({
        id: after.id,
        name: after.name,
        prefix: after.prefix,
        status: after.status,
        revoked_at: after.revoked_at,
        already_revoked: wasRevoked,
      });
    out(
      wasRevoked
        ? `API key ${after.prefix} ("${after.name}") was already revoked.`
        : `Revoked API key ${after.prefix} ("${after.name}") of tenant ${tenant.slug}.`,
    );
  }

  @Option({ flags: '--json', description: 'print JSON' })
  parseJson(): boolean {
    return true;
  }
}
