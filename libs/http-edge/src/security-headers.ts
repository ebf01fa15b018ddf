import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';

/**
 * What every API response carries: the set the OWASP REST Security Cheat Sheet names for JSON APIs. A JSON
 * answer is never rendered as a document, so the rest of helmet's set (referrer, DNS prefetch, download and
 * Flash policies, cross-origin isolation) has nothing to protect here; the contract itself asks for `nosniff`.
 * Set through Fastify's reply headers, not `setHeader` on the Node response: Node then validates and writes
 * them once, in `writeHead`, which made a dozen headers cost as much as the rest of a liveness answer.
 */
export const API_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
});

/** Swagger UI is a document: helmet's set, with a policy its bundle runs under (inline styles, data: images). */
export const DOCS_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': [
    "default-src 'self'",
    "base-uri 'self'",
    "font-src 'self' https: data:",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "img-src 'self' data: validator.swagger.io",
    "object-src 'none'",
    "script-src 'self' 'unsafe-inline'",
    "script-src-attr 'none'",
    "style-src 'self' 'unsafe-inline'",
  ].join(';'),
  'cross-origin-opener-policy': 'same-origin',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
});

/** The headers every answer starts with: the API security set and the request id. */
export function setEdgeHeaders(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply.headers(API_SECURITY_HEADERS).header('x-request-id', req.id);
}

const docsHeaders: onRequestHookHandler = (_req, reply, done) => {
  void reply.headers(DOCS_SECURITY_HEADERS);
  done();
};

/**
 * Routes under `prefix` (Swagger UI) get the document headers on top of the API ones: a route-level hook,
 * so no other route pays for the choice. Call before the docs routes are registered.
 */
export function installDocsSecurityHeaders(fastify: FastifyInstance, prefix: string): void {
  fastify.addHook('onRoute', (route) => {
    if (!route.url.startsWith(prefix)) return;
    const own = route.onRequest;
    route.onRequest = own === undefined ? [docsHeaders] : [...(Array.isArray(own) ? own : [own]), docsHeaders];
  });
}
