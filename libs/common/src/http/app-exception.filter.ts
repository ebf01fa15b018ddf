import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorBody, errorShapeFor, toErrorResponse } from '../errors';
import { loggableError } from '../redaction/loggable-error';

/**
 * Answers every error, on every route and before routing (Nest hands Fastify's error and not-found handlers
 * to the global filters too): the code's catalogue status, in the route's shape (the platform's
 * `{statusCode, error, code, message, request_id}`, or OpenAI's `{"error": {...}}` on the OpenAI-compatible
 * routes). Unexpected errors are logged with their stack here and answered as a bare 500.
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
  // A stream already under way cannot change its status; the relay ends it on its own.
  if (reply.sent || reply.raw.headersSent) return;
  const shape = errorShapeFor(request.url, request.routeOptions?.url !== undefined);
  for (const [name, value] of Object.entries(res.headers ?? {})) reply.header(name, value);
  void reply.status(res.status).send(errorBody(res, shape, String(request.id)));
}
