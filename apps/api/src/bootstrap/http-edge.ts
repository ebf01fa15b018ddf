import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { EdgeAuthenticationHook } from '#libs/auth';
import { errorShapeFor, MAX_URL_LENGTH } from '#libs/common';
import type { AppConfig } from '#libs/config';
import {
  installBodyLimits,
  installCors,
  installJsonBodyParser,
  pathOnly,
  sendEdgeError,
  setEdgeHeaders,
} from '#libs/http-edge';

/** `%00` anywhere in the URL (path or query) decodes to NUL, which no route may receive. */
const ENCODED_NUL = /%00/;

/**
 * What every request meets before Nest routes it, in this order: CORS, then the security headers and the
 * request id, a URL too long (414), NUL in the URL, an unknown route under /api/v1 (OpenAI's 404, Anthropic's below
 * /api/v1/messages), then
 * authentication (before the body is read), then the JSON parser (depth and text checks, body limits).
 */
export function installHttpEdge(app: NestFastifyApplication, config: AppConfig): void {
  installCors(app, config.corsOrigins);
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', (req, reply, done) => {
    setEdgeHeaders(req, reply);
    // Longer ones than Node's 16 KiB head limit never get here (see createClientErrorHandler).
    if (req.url.length > MAX_URL_LENGTH) {
      sendEdgeError(req, reply, 'uri_too_long', `The URL is longer than ${MAX_URL_LENGTH} characters`);
      return;
    }
    if (ENCODED_NUL.test(req.url)) {
      sendEdgeError(req, reply, 'validation_failed', 'The URL holds a NUL character (%00)');
      return;
    }
    if (req.is404 && pathOnly(req.url).startsWith('/api/v1/')) {
      // OpenAI's shape, or Anthropic's below /api/v1/messages: the SDK that called can read it.
      const shape = errorShapeFor(req.url, false);
      sendEdgeError(req, reply, 'not_found', `Unknown route ${req.method} ${pathOnly(req.url)}`, undefined, shape);
      return;
    }
    done();
  });
  app.get(EdgeAuthenticationHook).install(fastify);
  installBodyLimits(fastify);
  installJsonBodyParser(fastify);
}
