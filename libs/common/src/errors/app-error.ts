/**
 * The one exception type the product throws on purpose. `code` is the stable machine code of the
 * contract; the global filter turns it into `{statusCode, error, code, message, request_id}`.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const Errors = {
  unauthenticated: (message = 'Missing or malformed credentials') => new AppError(401, 'unauthenticated', message),
  invalidToken: (message = 'Invalid or expired session token') => new AppError(401, 'invalid_token', message),
  forbidden: (message = 'You are not allowed to do this') => new AppError(403, 'forbidden', message),
  tenantMismatch: (message = 'X-Tenant-ID names a tenant this credential cannot act for') =>
    new AppError(403, 'tenant_mismatch', message),
  notFound: (what: string) => new AppError(404, 'not_found', `${what} not found`),
  conflict: (code: string, message: string) => new AppError(409, code, message),
  badRequest: (code: string, message: string, details?: Record<string, unknown>) =>
    new AppError(400, code, message, details),
  serviceUnavailable: (code: string, message: string) => new AppError(503, code, message),
  badGateway: (code: string, message: string) => new AppError(502, code, message),
};
