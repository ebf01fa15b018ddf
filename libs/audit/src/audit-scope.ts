import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { AuditActor } from './audit.service';
import type { ContextualRequest, RequestContext } from '#libs/common';

/** Who acts and under which request id: what every audited change needs. */
export interface AuditScope {
  actor: AuditActor;
  requestId: string | null;
}

export function auditScopeOf(ctx: RequestContext | undefined, requestId: string | null): AuditScope {
  if (ctx?.kind === 'api_key' && ctx.apiKey)
    return {
      actor: { type: 'api_key', id: ctx.apiKey.id, userId: ctx.apiKey.userId ?? ctx.user?.id ?? null },
      requestId,
    };
  return { actor: { type: 'user', id: ctx?.user?.id ?? null }, requestId };
}

/** The audit actor of the request (the signed-in user, or the API key). */
export const CurrentAuditScope = createParamDecorator((_: unknown, ctx: ExecutionContext): AuditScope => {
  const req = ctx.switchToHttp().getRequest<ContextualRequest>();
  return auditScopeOf(req.auth, req.id ?? null);
});

/** The user behind a change: the signed-in user, or the user an API key acts as (null: an operator, the system). */
export function actingUserOf(scope: AuditScope): string | null {
  if (scope.actor.type === 'user') return scope.actor.id;
  if (scope.actor.type === 'api_key') return scope.actor.userId ?? null;
  return null;
}
