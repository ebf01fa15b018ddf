import { Injectable, RequestMethod } from '@nestjs/common';
import { ApplicationConfig, DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { readRouteAuthPolicy, RouteAuthPolicy, RouteTarget } from './route-auth.policy';

/** Nest's own metadata keys for @Controller(path) and @Get(path) etc. */
const PATH_METADATA = 'path';
const METHOD_METADATA = 'method';

/**
 * Every route's auth policy, resolved once: by handler for the guard, and by Fastify route (method + URL as
 * registered) for the edge hook, which runs before Nest knows the handler. Built from Nest's controller
 * registry on first use, after the global prefix is set.
 */
@Injectable()
export class RouteAuthPolicies {
  private readonly byHandler = new WeakMap<RouteTarget, RouteAuthPolicy>();
  private byRoute?: Map<string, RouteAuthPolicy>;

  constructor(
    private readonly reflector: Reflector,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly appConfig: ApplicationConfig,
  ) {}

  forHandler(handler: RouteTarget, controller: RouteTarget): RouteAuthPolicy {
    let policy = this.byHandler.get(handler);
    if (!policy) {
      policy = readRouteAuthPolicy(this.reflector, handler, controller);
      this.byHandler.set(handler, policy);
    }
    return policy;
  }

  /** The policy of a Fastify route (`request.routeOptions.url`), or undefined for routes Nest did not declare. */
  forRoute(method: string, url: string | undefined): RouteAuthPolicy | undefined {
    if (url === undefined) return undefined;
    const routes = (this.byRoute ??= this.collect());
    return routes.get(routeKey(method === 'HEAD' ? 'GET' : method, url));
  }

  private collect(): Map<string, RouteAuthPolicy> {
    const routes = new Map<string, RouteAuthPolicy>();
    const prefix = this.appConfig.getGlobalPrefix();
    for (const wrapper of this.discovery.getControllers()) {
      const controller = wrapper.metatype as RouteTarget | undefined;
      if (!controller || !wrapper.instance) continue;
      const controllerPaths = asArray(Reflect.getMetadata(PATH_METADATA, controller));
      const proto = Object.getPrototypeOf(wrapper.instance);
      for (const name of this.scanner.getAllMethodNames(proto)) {
        const handler = proto[name] as RouteTarget;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (method === undefined) continue;
        const policy = this.forHandler(handler, controller);
        for (const cp of controllerPaths)
          for (const hp of asArray(Reflect.getMetadata(PATH_METADATA, handler)))
            routes.set(routeKey(RequestMethod[method], joinPath(prefix, cp, hp)), policy);
      }
    }
    return routes;
  }
}

function routeKey(method: string, url: string): string {
  return `${method} ${url}`;
}

function asArray(value: unknown): string[] {
  if (Array.isArray(value)) return value.length ? value.map(String) : [''];
  return [typeof value === 'string' ? value : ''];
}

/** `api`, `tenants/:id`, `/` → `/api/tenants/:id`, as Nest registers it. */
export function joinPath(...parts: string[]): string {
  const joined = parts
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .filter(Boolean)
    .join('/');
  return `/${joined}`;
}
