import { ErrorCode, statusOf } from './error-catalogue';

/**
 * The one exception type the product throws on purpose. The thrower names a `code` of the catalogue and
 * nothing else: the status (and the OpenAI type) come from the catalogue, so one code always answers the
 * same way. The global filter turns it into the route's error shape.
 */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'AppError';
  }

  /** Read from the catalogue when asked: a lib's codes are registered when the lib loads, not when this does. */
  get status(): number {
    return statusOf(this.code);
  }
}

/** The generic errors thrown from many places, with their usual message. A lib's own live in its lib. */
export const Errors = {
  unauthenticated: (message = 'Missing or malformed credentials') => new AppError('unauthenticated', message),
  invalidToken: (message = 'Invalid or expired session token') => new AppError('invalid_token', message),
  forbidden: (message = 'You are not allowed to do this') => new AppError('forbidden', message),
  notFound: (what: string) => new AppError('not_found', `${what} not found`),
  validationFailed: (message: string, fields: string[]) => new AppError('validation_failed', message, { fields }),
  databaseUnavailable: () =>
    new AppError('database_unavailable', 'The database is unavailable; retry shortly', undefined, {
      'retry-after': '1',
    }),
};
