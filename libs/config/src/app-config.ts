import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { encryptionKeyProblem } from '#libs/common';
import { DevelopmentSigningKey, loadOrCreateDevelopmentSigningKey } from './development-signing-key';
import { Environment, validateEnvironment } from './environment';

const list = (value?: string) =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** Typed, read-only view of the validated environment. The only class that reads configuration. */
@Injectable()
export class AppConfig {
  readonly env: Environment;
  /** Whether any CLERK_* variable is set (non-empty): then Clerk alone signs users in. */
  private readonly clerkVariableSet: boolean;

  /** Reads process.env, into which ConfigModule has loaded `.env`; usable from the CLI as well. */
  constructor(raw: Record<string, unknown> = process.env) {
    this.env = validateEnvironment(raw);
    // A value equal to its default counts as unset: @nestjs/config writes the defaults back into process.env.
    const defaults = new Environment() as unknown as Record<string, unknown>;
    this.clerkVariableSet = Object.entries(raw).some(
      ([name, value]) =>
        name.startsWith('CLERK_') && typeof value === 'string' && value.trim() !== '' && value !== defaults[name],
    );
  }

  get isProduction() {
    return this.env.NODE_ENV === 'production';
  }
  get port() {
    return this.env.PORT;
  }
  get host() {
    return this.env.LISTEN_HOST ?? this.env.HOST;
  }
  get logLevel() {
    return this.env.LOG_LEVEL;
  }
  get databaseUrl() {
    return this.env.DATABASE_URL;
  }
  get databasePoolSize() {
    return this.env.DATABASE_POOL_SIZE;
  }
  get dataDir() {
    return resolve(this.env.DATA_DIR);
  }
  get redisUrl() {
    return this.env.REDIS_URL;
  }
  get shutdownTimeoutMs() {
    return this.env.SHUTDOWN_TIMEOUT_MS;
  }

  /** Browser origins allowed by CORS, exactly as a browser sends `Origin` (no trailing slash). */
  get corsOrigins(): string[] {
    return list(this.env.CORS_ORIGINS).map((o) => o.replace(/\/+$/, ''));
  }
  /** Fastify's `trustProxy`: false (unset), true, a hop count, or a list of addresses / CIDR ranges. */
  get trustProxy(): boolean | number | string[] {
    const raw = this.env.TRUST_PROXY;
    if (!raw || raw === 'false') return false;
    if (raw === 'true') return true;
    if (/^\d+$/.test(raw)) return Number(raw);
    return list(raw);
  }
  get authFailuresPerMinute() {
    return this.env.AUTH_FAILURES_PER_MINUTE;
  }

  get clerk() {
    return {
      secretKey: this.env.CLERK_SECRET_KEY,
      jwtKey: this.env.CLERK_JWT_KEY,
      authorizedParties: list(this.env.CLERK_AUTHORIZED_PARTIES),
      apiUrl: this.env.CLERK_API_URL.replace(/\/+$/, ''),
      webhookSigningSecret: this.env.CLERK_WEBHOOK_SIGNING_SECRET,
    };
  }

  /**
   * Development sign-in: NODE_ENV=development and no Clerk variable at all. Never in production or test, and
   * never beside a real Clerk configuration, so that a development key can never open a deployment.
   */
  get developmentSignIn(): boolean {
    return this.env.NODE_ENV === 'development' && !this.clerkVariableSet;
  }

  /** The development signing key under DATA_DIR (created on first use) when development sign-in is on; else null. */
  get developmentSigningKey(): DevelopmentSigningKey | null {
    if (!this.developmentSignIn) return null;
    return (this.cachedDevelopmentKey ??= loadOrCreateDevelopmentSigningKey(ensurePrivateDir(this.dataDir)));
  }
  private cachedDevelopmentKey?: DevelopmentSigningKey;

  get openRouter() {
    return {
      baseUrl: this.env.OPENROUTER_BASE_URL.replace(/\/+$/, ''),
      provisioningKey: this.env.OPENROUTER_PROVISIONING_API_KEY ?? this.env.OPENROUTER_PROVISIONING_KEY,
      keyLimit: this.env.OPENROUTER_KEY_LIMIT,
      timeoutMs: this.env.OPENROUTER_TIMEOUT_MS,
      chatTimeoutMs: this.env.OPENROUTER_CHAT_TIMEOUT_MS,
      reconcileIntervalMs: this.env.OPENROUTER_RECONCILE_INTERVAL_MINUTES * 60_000,
      reconcileGraceMs: this.env.OPENROUTER_RECONCILE_GRACE_SECONDS * 1000,
    };
  }

  get metricsToken() {
    return this.env.METRICS_TOKEN;
  }
  get apiKeyDefaultRateLimit() {
    return this.env.API_KEY_DEFAULT_RATE_LIMIT;
  }
  /** Read on every Clerk request: parsed once. */
  get platformAdminUserIds(): ReadonlySet<string> {
    return (this.cachedAdminIds ??= new Set(list(this.env.PLATFORM_ADMIN_USER_IDS)));
  }
  private cachedAdminIds?: ReadonlySet<string>;

  private cachedEncryptionKey?: Buffer;

  /**
   * ENCRYPTION_KEY, or for the embedded database outside production (validation refuses any other
   * case) a key generated once and kept under DATA_DIR, so that a restart can read what was stored.
   */
  get encryptionKey(): Buffer {
    if (this.cachedEncryptionKey) return this.cachedEncryptionKey;
    if (this.env.ENCRYPTION_KEY) return (this.cachedEncryptionKey = Buffer.from(this.env.ENCRYPTION_KEY, 'base64'));
    const file = join(ensurePrivateDir(this.dataDir), 'encryption.key');
    if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    const problem = encryptionKeyProblem(key);
    if (problem) throw new Error(`Invalid configuration:\n  ENCRYPTION_KEY: the generated key in ${file} ${problem}`);
    return (this.cachedEncryptionKey = key);
  }

  /** The key being rotated away from (ENCRYPTION_KEY_PREVIOUS), if any. */
  get previousEncryptionKey(): Buffer | null {
    return this.env.ENCRYPTION_KEY_PREVIOUS ? Buffer.from(this.env.ENCRYPTION_KEY_PREVIOUS, 'base64') : null;
  }
}

/**
 * Creates DATA_DIR (or tightens an existing one) as 0700: it holds the database files and the
 * generated encryption key, which nobody else on the machine may read.
 */
export function ensurePrivateDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  return dir;
}
