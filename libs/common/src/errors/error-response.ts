import { HttpException } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import { QueryFailedError } from 'typeorm';
import { AppError } from './app-error';
import { defaultCodeFor, statusName } from './http-status-names';

export interface ErrorResponse {
  status: number;
  code: string;
  message: string;
  details?: Record<string, unknown>;
  headers?: Record<string, string>;
  /** True when the failure is ours (a bug or an outage), so it is logged with its stack. */
  unexpected: boolean;
}

/** Error codes of PostgreSQL/driver failures that mean "the database is unreachable right now". */
const DB_UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08003',
  '08006',
  '08001',
  '08004',
]);

export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: string; message?: string; driverError?: { code?: string } } | undefined;
  if (!e) return false;
  const code = e.code ?? e.driverError?.code;
  if (code && DB_UNAVAILABLE_CODES.has(code)) return true;
  const msg = e.message ?? '';
  return /Connection terminated|connection timeout|Client has encountered a connection error|Connection is not established|pool is (closed|draining)|Cannot use a pool after calling end/i.test(
    msg,
  );
}

/**
 * Maps anything thrown to the contract's error answer. One place, so that every route speaks the
 * same codes; unknown errors become a bare 500 that leaks nothing.
 */
export function toErrorResponse(err: unknown): ErrorResponse {
  if (err instanceof AppError) {
    return {
      status: err.status,
      code: err.code,
      message: err.message,
      details: err.details,
      headers: err.headers,
      unexpected: false,
    };
  }
  if (err instanceof ThrottlerException) {
    return { status: 429, code: 'rate_limited', message: 'Too many requests', unexpected: false };
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const body = err.getResponse() as string | { message?: unknown; code?: string; details?: Record<string, unknown> };
    if (typeof body === 'object' && body && Array.isArray(body.message)) {
      const messages = body.message.map(String);
      return {
        status,
        code: body.code ?? 'validation_failed',
        message: messages.join('; '),
        details: { fields: validationFields(messages), errors: messages },
        unexpected: false,
      };
    }
    const message = typeof body === 'string' ? body : String(body?.message ?? err.message);
    const code =
      typeof body === 'object' && body?.code
        ? body.code
        : /not valid JSON|Unexpected .* JSON/i.test(message)
          ? 'invalid_json'
          : defaultCodeFor(status);
    return { status, code, message, unexpected: status >= 500 };
  }
  if (isDatabaseUnavailable(err)) {
    return {
      status: 503,
      code: 'database_unavailable',
      message: 'The database is unavailable; retry shortly',
      headers: { 'retry-after': '1' },
      unexpected: false,
    };
  }
  if (err instanceof QueryFailedError && (err as { driverError?: { code?: string } }).driverError?.code === '22P02') {
    // invalid_text_representation: a malformed id reached a query; treat as "no such thing".
    return { status: 404, code: 'not_found', message: 'Not found', unexpected: false };
  }
  const fastifyStatus = (err as { statusCode?: number })?.statusCode;
  if (typeof fastifyStatus === 'number' && fastifyStatus >= 400 && fastifyStatus < 500) {
    return {
      status: fastifyStatus,
      code: fastifyCode(err) ?? defaultCodeFor(fastifyStatus),
      message: safeFastifyMessage(err, fastifyStatus),
      unexpected: false,
    };
  }
  return { status: 500, code: 'internal_error', message: 'Internal server error', unexpected: true };
}

/** class-validator messages start with the property path ("email must be an email"). */
function validationFields(messages: string[]): string[] {
  const fields = new Set<string>();
  for (const m of messages) {
    const match = /^property (\S+) should not exist/.exec(m) ?? /^(\S+) /.exec(m);
    if (match) fields.add(match[1]);
  }
  return [...fields];
}

function fastifyCode(err: unknown): string | undefined {
  const code = (err as { code?: string }).code;
  switch (code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'invalid_json';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'unsupported_media_type';
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'payload_too_large';
    default:
      return undefined;
  }
}

function safeFastifyMessage(err: unknown, status: number): string {
  const msg = (err as { message?: string }).message;
  return typeof msg === 'string' && msg.length < 300 ? msg : statusName(status);
}
