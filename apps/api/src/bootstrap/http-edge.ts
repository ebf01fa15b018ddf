import type { FastifyInstance } from 'fastify';
import type { AppConfig } from '#libs/config';

/** What every request meets before Nest routes it: Fastify hooks on the raw request and reply. */
export function installHttpEdge(fastify: FastifyInstance, _config: AppConfig): void {
  fastify.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id);
    done();
  });
}
