import { HttpException } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import { QueryFailedError } from 'typeorm';
import { AppError } from './app-error';
import { defaultCodeFor, ErrorCode, isErrorCode, statusOf } from './error-catalogue';
import { statusName } from './http-status-names';

export interface ErrorResponse {
  /** Always the catalogue's status of `code`. */
  status: number;
  code: ErrorCode;
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
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Connection is not established|pool is (closed|draining)|Cannot use a pool after calling end/i.test(
    msg,
  );
}

/**
 * Maps anything thrown to the contract's error answer. One place, so that every route speaks the
 * same codes; unknown errors become a bare 500 that leaks nothing.
 */
export function toErrorResponse(err: unknown): ErrorResponse {
  if (err instanceof AppError) {
    // A code whose lib never registered it is a wiring bug: answered as one, not with a guessed status.
    if (!isErrorCode(err.code)) return { ...answer('internal_error', 'Internal server error'), unexpected: true };
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
    return answer('rate_limited', 'Too many requests');
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const body = err.getResponse() as string | { message?: unknown; code?: unknown; details?: Record<string, unknown> };
    const ownCode = typeof body === 'object' && body && isErrorCode(body.code) ? body.code : undefined;
    if (typeof body === 'object' && body && Array.isArray(body.message)) {
      const messages = body.message.map(String);
      return answer(ownCode ?? 'validation_failed', messages.join('; '), {
        fields: validationFields(messages),
        errors: messages,
      });
    }
    const message = typeof body === 'string' ? body : String(body?.message ?? err.message);
    if (/not valid JSON|Unexpected .* JSON/i.test(message)) return answer('invalid_json', INVALID_JSON_MESSAGE);
    const code = ownCode ?? defaultCodeFor(status);
    const res = answer(code, message, typeof body === 'object' ? body?.details : undefined);
    return { ...res, unexpected: statusOf(code) >= 500 };
  }
  if (isDatabaseUnavailable(err)) {
    return {
      ...answer('database_unavailable', 'The database is unavailable; retry shortly'),
      headers: { 'retry-after': '1' },
    };
  }
  if (err instanceof QueryFailedError && (err as { driverError?: { code?: string } }).driverError?.code === '22P02') {
    // invalid_text_representation: a malformed id reached a query; treat as "no such thing".
    return answer('not_found', 'Not found');
  }
  const fastifyStatus = (err as { statusCode?: number })?.statusCode;
  if (typeof fastifyStatus === 'number' && fastifyStatus >= 400 && fastifyStatus < 500) {
    const code = fastifyCode(err) ?? defaultCodeFor(fastifyStatus);
    return answer(code, code === 'invalid_json' ? INVALID_JSON_MESSAGE : safeFastifyMessage(err, statusOf(code)));
  }
  return { ...answer('internal_error', 'Internal server error'), unexpected: true };
}

/** The parser's own message quotes the body; a body may hold a secret, so it is never echoed. */
const INVALID_JSON_MESSAGE = 'The body is not valid JSON';

function answer(code: ErrorCode, message: string, details?: Record<string, unknown>): ErrorResponse {
  return { status: statusOf(code), code, message, ...(details ? { details } : {}), unexpected: false };
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

function fastifyCode(err: unknown): ErrorCode | undefined {
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
