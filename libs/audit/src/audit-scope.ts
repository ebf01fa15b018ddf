import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { AuditActor } from './audit.service';
import type { ContextualRequest, RequestContext } from '#libs/common';

/** Who acts and under which request id: what every audited change needs. */
export interface AuditScope {
  actor: AuditActor;
  requestId: string | null;
}

export function auditScopeOf(ctx: RequestContext | undefined, requestId: string | null): AuditScope {
  if (ctx?.kind === 'api_key' && ctx.apiKey) return { actor: { type: 'api_key', id: ctx.apiKey.id }, requestId };
  return { actor: { type: 'user', id: ctx?.user?.id ?? null }, requestId };
}

/** The audit actor of the request (the signed-in user, or the API key). */
export const CurrentAuditScope = createParamDecorator((_: unknown, ctx: ExecutionContext): AuditScope => {
  const req = ctx.switchToHttp().getRequest<ContextualRequest>();
  return auditScopeOf(req.auth, req.id ?? null);
});
