import * as http from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { requestIdFor } from '#libs/common';
import { API_SECURITY_HEADERS } from '#libs/http-edge';

export const LIVENESS_PATH = '/api/health';
const LIVENESS_BODY = '{"status":"ok"}';
const JSON_TYPE = 'application/json; charset=utf-8';

/** A probe's answer headers but the request id, built once: what every API answer carries. */
const PROBE_HEADERS: readonly string[] = [
  ...Object.entries(API_SECURITY_HEADERS).flat(),
  'content-type',
  JSON_TYPE,
  'content-length',
  String(Buffer.byteLength(LIVENESS_BODY)),
];

/**
 * Liveness: the process answers. A probe (GET or HEAD of exactly /api/health, from no browser) is answered by
 * the HTTP server itself, before Fastify and Nest see it, so that it costs what a bare node:http answer costs.
 * Everything else about it is the API's: the security headers, the request id (a valid incoming one echoed).
 * The Fastify route below answers the rest alike: a request with an `Origin` (CORS is Fastify's), a query
 * string, or any request once the server has stopped listening (shutting down: Fastify answers 503).
 * Readiness (`/api/health/ready`, dependencies checked) stays a Nest route on terminus.
 */
export function installLiveness(fastify: FastifyInstance): void {
  fastify.get(LIVENESS_PATH, answerLiveness);
}

export function answerLiveness(_req: FastifyRequest, reply: FastifyReply): void {
  void reply.header('content-type', JSON_TYPE).send(LIVENESS_BODY);
}

/** The options of Fastify's that its own server factory applies to the server it makes. */
interface ServerSettings {
  http?: http.ServerOptions;
  keepAliveTimeout?: number;
  requestTimeout?: number;
  connectionTimeout?: number;
  maxRequestsPerSocket?: number;
}

/**
 * Fastify's `serverFactory`: the server Fastify would make (same timeouts), with liveness probes answered
 * before Fastify's handler.
 */
export function serverAnsweringProbes(fastifyHandler: http.RequestListener, settings: ServerSettings): http.Server {
  const server = http.createServer(settings.http ?? {}, (req, res) => {
    if (isLivenessProbe(req) && server.listening) answerProbe(req, res);
    else fastifyHandler(req, res);
  });
  if (settings.keepAliveTimeout !== undefined) server.keepAliveTimeout = settings.keepAliveTimeout;
  if (settings.requestTimeout !== undefined) server.requestTimeout = settings.requestTimeout;
  server.setTimeout(settings.connectionTimeout ?? 0);
  if (settings.maxRequestsPerSocket) server.maxRequestsPerSocket = settings.maxRequestsPerSocket;
  return server;
}

function isLivenessProbe(req: http.IncomingMessage): boolean {
  return (
    req.url === LIVENESS_PATH && (req.method === 'GET' || req.method === 'HEAD') && req.headers.origin === undefined
  );
}

function answerProbe(req: http.IncomingMessage, res: http.ServerResponse): void {
  res.writeHead(200, [...PROBE_HEADERS, 'x-request-id', requestIdFor(req)]);
  res.end(req.method === 'HEAD' ? undefined : LIVENESS_BODY);
}

/** The route in the OpenAPI document, as Nest's Swagger module would have described it. */
export const LIVENESS_OPENAPI = {
  get: {
    operationId: 'HealthController_live',
    summary: 'Liveness',
    tags: ['health'],
    parameters: [],
    responses: {
      '200': {
        description: 'The process answers',
        content: { 'application/json': { schema: { example: { status: 'ok' } } } },
      },
    },
  },
};
