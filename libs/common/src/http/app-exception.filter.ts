import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { statusName, toErrorResponse } from '../errors';
import { loggableError } from '../redaction/loggable-error';

/**
 * Answers every error in the contract's shape `{statusCode, error, code, message, request_id}`.
 * Unexpected errors are logged with their stack here and answered as a bare 500.
 */
@Catch()
export class AppExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    sendError(reply, request, exception, this.logger);
  }
}

export function sendError(reply: FastifyReply, request: FastifyRequest, exception: unknown, logger: Logger): void {
  const res = toErrorResponse(exception);
  if (res.unexpected)
    logger.error({ err: loggableError(exception), request_id: request.id, path: request.url }, 'Unexpected error');
  if (reply.sent) return;
  for (const [name, value] of Object.entries(res.headers ?? {})) reply.header(name, value);
  void reply.status(res.status).send({
    statusCode: res.status,
    error: statusName(res.status),
    code: res.code,
    message: res.message,
    ...(res.details ? { details: res.details } : {}),
    request_id: request.id,
  });
}
