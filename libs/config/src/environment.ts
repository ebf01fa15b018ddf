import { isIP } from 'node:net';
import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBase64,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsPositive,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  validateSync,
} from 'class-validator';
import { encryptionKeyProblem } from '#libs/common';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' && value.trim() === '' ? undefined : value);

/**
 * Every environment variable the service reads, validated once at start-up. A bad value stops the
 * process with the variable's name in the message.
 */
export class Environment {
  @IsOptional()
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @Transform(({ value }) => (value === undefined || value === '' ? 8000 : Number(value)))
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 8000;

  @IsOptional()
  @IsString()
  HOST = '127.0.0.1';

  /** Wins over HOST: the Docker image sets it to 0.0.0.0, so that a `.env` saying HOST=127.0.0.1 cannot hide the container. */
  @Transform(trim)
  @IsOptional()
  @IsString()
  LISTEN_HOST?: string;

  @Transform(trim)
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL?: string;

  @Transform(trim)
  @IsOptional()
  @IsString()
  DATA_DIR = './data';

  @Transform(trim)
  @IsOptional()
  @Matches(/^rediss?:\/\/.+/, { message: 'REDIS_URL must be a redis:// URL' })
  REDIS_URL?: string;

  @Transform(trim)
  @IsOptional()
  @IsString()
  CLERK_SECRET_KEY?: string;

  @Transform(({ value }) =>
    typeof value === 'string' && value.trim() ? value.replace(/\\n/g, '\n').trim() : undefined,
  )
  @IsOptional()
  @Matches(/^-----BEGIN PUBLIC KEY-----[\s\S]+-----END PUBLIC KEY-----$/, {
    message: 'CLERK_JWT_KEY must be a PEM public key (-----BEGIN PUBLIC KEY-----)',
  })
  CLERK_JWT_KEY?: string;

  @Transform(trim)
  @IsOptional()
  @IsString()
  CLERK_AUTHORIZED_PARTIES?: string;

  @Transform(trim)
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] })
  CLERK_API_URL = 'https://api.clerk.com';

  @Transform(trim)
  @IsOptional()
  @Matches(/^whsec_[A-Za-z0-9+/=]+$/, { message: 'CLERK_WEBHOOK_SIGNING_SECRET must look like whsec_…' })
  CLERK_WEBHOOK_SIGNING_SECRET?: string;

  @Transform(trim)
  @IsOptional()
  @IsString()
  OPENROUTER_PROVISIONING_API_KEY?: string;

  @Transform(trim)
  @IsOptional()
  @IsString()
  OPENROUTER_PROVISIONING_KEY?: string;

  @Transform(trim)
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] })
  OPENROUTER_BASE_URL = 'https://openrouter.ai/api/v1';

  @Transform(({ value }) => (value === undefined || value === '' ? 15 : Number(value)))
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @IsPositive()
  @Max(1_000_000)
  OPENROUTER_KEY_LIMIT = 15;

  /** The period each user's OPENROUTER_KEY_LIMIT budget is for, as OpenRouter's `limit_reset` (UTC). */
  @Transform(({ value }) => (typeof value === 'string' && value.trim() !== '' ? value.trim().toLowerCase() : 'none'))
  @IsIn(['none', 'daily', 'weekly', 'monthly'])
  OPENROUTER_KEY_LIMIT_RESET: 'none' | 'daily' | 'weekly' | 'monthly' = 'none';

  @Transform(({ value }) => (value === undefined || value === '' ? 10000 : Number(value)))
  @IsInt()
  @Min(100)
  @Max(600000)
  OPENROUTER_TIMEOUT_MS = 10000;

  /** A non-streamed completion is answered whole, so it gets far longer than a management call. */
  @Transform(({ value }) => (value === undefined || value === '' ? 120000 : Number(value)))
  @IsInt()
  @Min(1000)
  @Max(900000)
  OPENROUTER_CHAT_TIMEOUT_MS = 120000;

  @Transform(({ value }) => (value === undefined || value === '' ? 30 : Number(value)))
  @IsInt()
  @Min(0)
  @Max(10080)
  OPENROUTER_RECONCILE_INTERVAL_MINUTES = 30;

  @Transform(({ value }) => (value === undefined || value === '' ? 600 : Number(value)))
  @IsInt()
  @Min(0)
  @Max(86400)
  OPENROUTER_RECONCILE_GRACE_SECONDS = 600;

  /** Days of raw usage records kept (whole UTC days); the rollups that reports read are kept forever. 0: keep all. */
  @Transform(({ value }) => (value === undefined || value === '' ? 90 : Number(value)))
  @IsInt()
  @Min(0)
  @Max(36500)
  USAGE_RETENTION_DAYS = 90;

  @Transform(trim)
  @IsOptional()
  @IsBase64()
  ENCRYPTION_KEY?: string;

  /** Unset: /api/metrics does not exist. Set: Prometheus text for `Authorization: Bearer <METRICS_TOKEN>`. */
  @Transform(trim)
  @IsOptional()
  @Matches(/^\S{16,}$/, { message: 'METRICS_TOKEN must be at least 16 characters without spaces' })
  METRICS_TOKEN?: string;

  /** The key being rotated away from: secrets sealed with it are read and re-sealed with ENCRYPTION_KEY. */
  @Transform(trim)
  @IsOptional()
  @IsBase64()
  ENCRYPTION_KEY_PREVIOUS?: string;

  @Transform(({ value }) => (value === undefined || value === '' ? 60 : Number(value)))
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  API_KEY_DEFAULT_RATE_LIMIT = 60;

  @Transform(trim)
  @IsOptional()
  @IsString()
  PLATFORM_ADMIN_USER_IDS?: string;

  @Transform(trim)
  @IsOptional()
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' = 'info';

  @Transform(({ value }) => (value === undefined || value === '' ? 10 : Number(value)))
  @IsInt()
  @Min(1)
  @Max(200)
  DATABASE_POOL_SIZE = 10;

  @Transform(({ value }) => (value === undefined || value === '' ? 10000 : Number(value)))
  @IsInt()
  @Min(0)
  @Max(600000)
  SHUTDOWN_TIMEOUT_MS = 10000;

  /** Comma-separated browser origins allowed to call the API (with credentials); unset: no CORS headers. */
  @Transform(trim)
  @IsOptional()
  @Matches(/^\s*https?:\/\/[^\s,/]+\/?\s*(,\s*https?:\/\/[^\s,/]+\/?\s*)*$/i, {
    message: 'CORS_ORIGINS must be comma-separated origins such as https://app.example.com',
  })
  CORS_ORIGINS?: string;

  /** Which proxies' X-Forwarded-For to believe: true, a hop count, or comma-separated addresses/CIDRs. */
  @Transform(trim)
  @IsOptional()
  @Matches(/^(true|false|\d{1,2}|[0-9a-fA-F.:/]+(\s*,\s*[0-9a-fA-F.:/]+)*)$/, {
    message: 'TRUST_PROXY must be true, false, a hop count or comma-separated IP addresses / CIDR ranges',
  })
  TRUST_PROXY?: string;

  @Transform(({ value }) => (value === undefined || value === '' ? 100 : Number(value)))
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  AUTH_FAILURES_PER_MINUTE = 100;
}

/** Validates `process.env` (as @nestjs/config hands it over); throws naming every bad variable. */
export function validateEnvironment(raw: Record<string, unknown>): Environment {
  const env = plainToInstance(Environment, raw, { exposeDefaultValues: true });
  const errors = validateSync(env, { skipMissingProperties: false, whitelist: false });
  if (errors.length > 0) {
    const lines = errors.map((e) => `${e.property}: ${Object.values(e.constraints ?? {}).join(', ')}`);
    throw new Error(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const badProxy = badTrustProxyEntry(env.TRUST_PROXY);
  if (badProxy) {
    throw new Error(`Invalid configuration:\n  TRUST_PROXY: "${badProxy}" is not an IP address or CIDR range`);
  }
  const problems = encryptionProblems(env);
  if (problems.length > 0) throw new Error(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  return env;
}

/** The first entry of a TRUST_PROXY address list that is neither an IP address nor a CIDR range. */
function badTrustProxyEntry(value: string | undefined): string | undefined {
  if (!value || /^(true|false|\d+)$/.test(value)) return undefined;
  return value
    .split(',')
    .map((s) => s.trim())
    .find((entry) => {
      const [address, bits, extra] = entry.split('/');
      const family = isIP(address);
      if (!family || extra !== undefined) return true;
      return bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
    });
}

/**
 * A generated key is only safe where one process owns the data: the embedded database outside
 * production. Elsewhere every instance must be given the same key, or each would seal with its own.
 */
function encryptionProblems(env: Environment): string[] {
  const problems: string[] = [];
  if (!env.ENCRYPTION_KEY) {
    if (env.NODE_ENV === 'production')
      problems.push('ENCRYPTION_KEY: required when NODE_ENV=production (32 bytes, base64)');
    else if (env.DATABASE_URL)
      problems.push('ENCRYPTION_KEY: required with DATABASE_URL (32 bytes, base64; the same on every instance)');
  }
  if (env.ENCRYPTION_KEY_PREVIOUS && !env.ENCRYPTION_KEY)
    problems.push('ENCRYPTION_KEY_PREVIOUS: set ENCRYPTION_KEY (the new key) as well to rotate');
  for (const name of ['ENCRYPTION_KEY', 'ENCRYPTION_KEY_PREVIOUS'] as const) {
    const value = env[name];
    const problem = value ? encryptionKeyProblem(Buffer.from(value, 'base64')) : null;
    if (problem) problems.push(`${name}: ${problem}`);
  }
  if (
    env.ENCRYPTION_KEY &&
    env.ENCRYPTION_KEY_PREVIOUS &&
    Buffer.from(env.ENCRYPTION_KEY, 'base64').equals(Buffer.from(env.ENCRYPTION_KEY_PREVIOUS, 'base64'))
  )
    problems.push('ENCRYPTION_KEY_PREVIOUS: must differ from ENCRYPTION_KEY');
  return problems;
}
