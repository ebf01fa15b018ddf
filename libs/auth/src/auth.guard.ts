import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { ContextualRequest } from '#libs/common';
import { CredentialResolver } from './credential.resolver';
import { RouteAuthPolicies } from './route-auth.policies';

/**
 * The global guard: every route is closed unless marked `@Public()`. The edge hook has normally
 * authenticated and authorized the request already, before its body was read (`req.auth` is set), and the
 * guard lets it through. A route the hook did not resolve is authenticated and authorized here, the same way.
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
    // Set only by the edge hook, after it authorized this same route's policy: nothing left to check.
    if (req.auth) return true;
    return this.credentials.resolve(req, policy).then((auth) => {
      this.credentials.authorize(auth, policy);
      req.auth = auth;
      return true;
    });
  }
}
