import { ApiKeysCreateCommand } from './api-keys-create.command';
import { ApiKeysListCommand } from './api-keys-list.command';
import { ApiKeysRevokeCommand } from './api-keys-revoke.command';
import { AuditListCommand } from './audit-list.command';
import { DevTokenCommand } from './dev-token.command';
import { OpenRouterReconcileCommand } from './openrouter-reconcile.command';
import { SecretsResealCommand } from './secrets-reseal.command';
import { StatsCommand } from './stats.command';
import { TenantsCreateCommand } from './tenants-create.command';
import { TenantsListCommand } from './tenants-list.command';
import { UsersListCommand } from './users-list.command';
import { UsersRefreshKeyCommand } from './users-refresh-key.command';

/** Every command of the command line, in the order `--help` lists them. */
export const COMMANDS = [
  TenantsCreateCommand,
  TenantsListCommand,
  ApiKeysCreateCommand,
  ApiKeysListCommand,
  ApiKeysRevokeCommand,
  UsersListCommand,
  UsersRefreshKeyCommand,
  OpenRouterReconcileCommand,
  SecretsResealCommand,
  StatsCommand,
  AuditListCommand,
  DevTokenCommand,
];
