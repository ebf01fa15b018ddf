import type { LoggerService } from '@nestjs/common';
import type { AppConfig } from '#libs/config';
import type { DatabaseEndpoint } from '#libs/database';

/** An integration that is off until its variable is set, and what a newcomer notices meanwhile. */
interface Integration {
  name: string;
  configured: (config: AppConfig) => boolean;
  enable: string;
  effect: string;
}

const INTEGRATIONS: Integration[] = [
  {
    name: 'Clerk sign-in',
    configured: (c) => Boolean(c.clerk.jwtKey || c.clerk.secretKey || c.developmentSignIn),
    enable: 'CLERK_JWT_KEY or CLERK_SECRET_KEY',
    effect: 'every Bearer session token is refused',
  },
  {
    name: 'OpenRouter key provisioning',
    configured: (c) => Boolean(c.openRouter.provisioningKey),
    enable: 'OPENROUTER_PROVISIONING_API_KEY',
    effect: 'users get no OpenRouter key and /me says openrouter_key_status: not_configured',
  },
  {
    name: 'Clerk webhooks',
    configured: (c) => Boolean(c.clerk.webhookSigningSecret),
    enable: 'CLERK_WEBHOOK_SIGNING_SECRET',
    effect: 'POST /api/webhooks/clerk answers 503',
  },
  {
    name: 'Prometheus metrics',
    configured: (c) => Boolean(c.metricsToken),
    enable: 'METRICS_TOKEN',
    effect: '/api/metrics is a 404',
  },
  {
    name: 'platform administrators',
    configured: (c) => c.platformAdminUserIds.size > 0,
    enable: 'PLATFORM_ADMIN_USER_IDS',
    effect: 'nobody may use /api/admin',
  },
];

/** Where to point a browser: a wildcard listen address is reachable on loopback. */
function baseUrl(config: AppConfig): string {
  const host = ['0.0.0.0', '::', ''].includes(config.host) ? '127.0.0.1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
}

/** Host, port and name of a server URL: never its user or password. */
function serverOf(url: string, defaultPort: number): string {
  try {
    const u = new URL(url);
    const db = u.pathname.replace(/^\//, '');
    return `${u.hostname}:${u.port || defaultPort}${db ? `/${db}` : ''}`;
  } catch {
    return 'a server (unparsable URL)';
  }
}

/** The lines of the start-up summary, in the order an operator reads them. */
export function startupSummaryLines(config: AppConfig, endpoint: Pick<DatabaseEndpoint, 'embedded'>): string[] {
  const url = baseUrl(config);
  const wildcard = ['0.0.0.0', '::'].includes(config.host) ? ` (all interfaces, HOST=${config.host})` : '';
  const lines = [
    `Listening on ${url}${wildcard}`,
    `  API docs:  ${url}/api/docs (OpenAPI: ${url}/api/docs-json)`,
    `  Database:  ${
      endpoint.embedded || !config.databaseUrl
        ? `embedded PostgreSQL (PGlite) under ${config.dataDir}; set DATABASE_URL for a server`
        : `PostgreSQL at ${serverOf(config.databaseUrl, 5432)}`
    }`,
    `  Redis:     ${
      config.redisUrl
        ? serverOf(config.redisUrl, 6379)
        : 'not configured: limits and counters kept in process (one instance); set REDIS_URL to share them'
    }`,
  ];
  if (config.developmentSignIn)
    lines.push(
      '  Sign-in:   development sign-in is on (NODE_ENV=development, no CLERK_* variable): ' +
        '`npm run -s cli -- dev:token --email you@example.com` prints a session token; set CLERK_JWT_KEY or CLERK_SECRET_KEY for Clerk',
    );
  const missing = INTEGRATIONS.filter((i) => !i.configured(config));
  if (missing.length === 0) lines.push('  Every integration is configured.');
  else {
    lines.push('  Not configured:');
    for (const i of missing) lines.push(`    - ${i.name}: set ${i.enable}; until then ${i.effect}`);
  }
  return lines;
}

/** One summary, logged once the server listens: where it is, where the docs are, what is left to configure. */
export function logStartupSummary(logger: LoggerService, config: AppConfig, endpoint: DatabaseEndpoint): void {
  logger.log(startupSummaryLines(config, endpoint).join('\n'), 'Bootstrap');
}
