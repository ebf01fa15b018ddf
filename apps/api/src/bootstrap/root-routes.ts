import type { FastifyInstance } from 'fastify';

const LINKS = {
  name: 'User management backend',
  docs: '/api/docs',
  openapi: '/api/docs-json',
  health: '/api/health',
};

/**
 * `GET /` and `GET /api`: public pointers to the documentation instead of bare 404s. A browser (asking for
 * HTML) is redirected to Swagger UI; anything else gets the links as JSON.
 */
export function installRootRoutes(fastify: FastifyInstance): void {
  for (const url of ['/', '/api', '/api/']) {
    fastify.get(url, (request, reply) => {
      if (/\btext\/html\b/.test(request.headers.accept ?? '')) return reply.redirect(LINKS.docs, 302);
      return reply.send(LINKS);
    });
  }
}
