/** Every action the audit trail records (the contract's list). */
export const AUDIT_ACTIONS = [
  'tenant.created',
  'tenant.updated',
  'tenant.deleted',
  'member.added',
  'member.removed',
  'member.role_changed',
  'api_key.created',
  'api_key.updated',
  'api_key.rotated',
  'api_key.revoked',
  'openrouter_key.provisioned',
  'openrouter_key.refreshed',
  'openrouter_key.auto_renewed',
  'openrouter_key.deleted',
  'openrouter_key.provisioning_failed',
  'user.deactivated',
  'user.budget_changed',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];
