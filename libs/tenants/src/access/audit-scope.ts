// The audit scope lives with the audit trail; re-exported here for the libs that still import it from tenants.
export { auditScopeOf, CurrentAuditScope } from '#libs/audit';
export type { AuditScope } from '#libs/audit';
