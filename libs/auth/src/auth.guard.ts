import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { ContextualRequest } from '#libs/common';
import { CredentialResolver } from './credential.resolver';
import { RouteAuthPolicies } from './route-auth.policies';

/**
 * The global guard: every route is closed unless marked `@Public()`. The edge hook has normally
 * authenticated the request already, before its body was read (`req.auth` is set); the guard then only
 * re-checks the route's rights, read once per handler. A route the hook did not resolve is authenticated
 * here, the same way.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly policies: RouteAuthPolicies,
    private readonly credentials: CredentialResolver,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const policy = this.policies.forHandler(context.getHandler(), context.getClass());
    if (policy.isPublic) return true;
    const req = context.switchToHttp().getRequest<ContextualRequest>();
    if (req.auth) {
      this.credentials.authorize(req.auth, policy);
      return true;
    }
    return this.credentials.resolve(req, policy).then((auth) => {
      this.credentials.authorize(auth, policy);
      req.auth = auth;
      return true;
    });
  }
}
