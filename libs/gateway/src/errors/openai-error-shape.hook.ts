import { Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { openAiErrorBody, openAiTypeFor } from './openai-error';

/** Paths whose errors must be OpenAI-shaped, whatever answered them. */
const OPENAI_PATHS = new Set(['/api/v1/chat/completions', '/api/v1/models']);

/**
 * A safety net for the OpenAI-compatible routes: errors raised before Nest routes the request (a body
 * that is not JSON, a body too large) are answered by the global filter in the
 * contract's `{statusCode, error, code, message, request_id}` shape; this hook rewrites such an answer
 * to OpenAI's `{"error": {message, type, code}}` on those paths. Errors of the routes themselves are
 * already shaped by OpenAiExceptionFilter and pass untouched.
 */
@Injectable()
export class OpenAiErrorShapeHook {
  /**
   * In the constructor: Nest registers routes before onModuleInit, and the hook must be attached as each
   * route is added. Attached to the OpenAI routes only, so that no other route pays for an onSend hook.
   */
  constructor(adapterHost: HttpAdapterHost) {
    const fastify = adapterHost.httpAdapter?.getInstance?.() as FastifyInstance | undefined;
    if (!fastify || typeof fastify.addHook !== 'function') return;
    fastify.addHook('onRoute', (route) => {
      if (!OPENAI_PATHS.has(pathOf(route.url ?? route.path ?? ''))) return;
      const existing = route.onSend ? (Array.isArray(route.onSend) ? route.onSend : [route.onSend]) : [];
      route.onSend = [...existing, reshapeOnSend] as typeof route.onSend;
    });
  }
}

/** Callback style, not async: no promise per response. */
function reshapeOnSend(
  _request: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
  done: (err: null, value: unknown) => void,
): void {
  if (reply.statusCode < 400 || typeof payload !== 'string') return done(null, payload);
  done(null, reshape(payload) ?? payload);
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/** The contract's error body → OpenAI's; null for anything else (already OpenAI-shaped, or not an error body). */
function reshape(payload: string): string | null {
  let body: { statusCode?: unknown; code?: unknown; message?: unknown; error?: unknown };
  try {
    body = JSON.parse(payload);
  } catch {
    return null;
  }
  if (typeof body?.statusCode !== 'number' || typeof body.code !== 'string' || typeof body.error === 'object')
    return null;
  const message = typeof body.message === 'string' ? body.message : 'Request failed';
  return JSON.stringify(openAiErrorBody(message, openAiTypeFor(body.statusCode, body.code), body.code));
}
