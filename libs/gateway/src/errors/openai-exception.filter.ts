import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { loggableError, toErrorResponse } from '#libs/common';
import { OpenAiError, openAiErrorBody, openAiTypeFor } from './openai-error';

/**
 * Answers every error of the OpenAI-compatible routes as `{"error": {message, type, code, param}}`,
 * authentication and rate-limit failures of the guards included (a controller-scoped filter sees
 * those too), so that OpenAI SDKs can read them. Codes are the contract's (`invalid_api_key`, …).
 */
@Catch()
export class OpenAiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('GatewayErrors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const res = toErrorResponse(exception);
    if (res.unexpected)
      this.logger.error(
        { err: loggableError(exception), request_id: request.id, path: request.url },
        'Unexpected error',
      );
    if (reply.sent || reply.raw.headersSent) return;
    const type = exception instanceof OpenAiError ? exception.type : openAiTypeFor(res.status, res.code);
    for (const [name, value] of Object.entries(res.headers ?? {})) reply.header(name, value);
    void reply.status(res.status).send(openAiErrorBody(res.message, type, res.code));
  }
}
