import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, scanJsonText } from '#libs/common';
import { bodyLimitsFor } from './edge-limits';

/**
 * The only JSON parser: bytes kept as `req.rawBody` (webhook signatures are checked over the exact body),
 * then one linear scan refusing nesting deeper than the route allows and strings holding NUL or lone
 * surrogates, before JSON.parse builds anything and long before class-transformer walks it. Runs after
 * the edge authentication hook, so an unauthenticated caller never gets here.
 */
export function installJsonBodyParser(fastify: FastifyInstance): void {
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    const raw = body as Buffer;
    (req as FastifyRequest & { rawBody?: Buffer }).rawBody = raw;
    if (raw.length === 0) return done(new AppError('invalid_json', 'The request body is empty'));
    const text = raw.toString('utf8');
    const { jsonDepth } = bodyLimitsFor(req.routeOptions.url ?? req.url);
    const problem = scanJsonText(text, jsonDepth);
    if (problem === 'too_deep')
      return done(
        new AppError('validation_failed', `The JSON body is nested deeper than ${jsonDepth} levels`, {
          fields: ['body'],
        }),
      );
    if (problem === 'unsafe_text')
      return done(
        new AppError('validation_failed', 'The JSON body holds a NUL character or a lone UTF-16 surrogate', {
          fields: ['body'],
        }),
      );
    let parsed: unknown;
    try {
      parsed = JSON.parse(text, mayPoison(text) ? refusePoison : undefined);
    } catch (err) {
      return done(err instanceof AppError ? err : new AppError('invalid_json', 'The request body is not valid JSON'));
    }
    done(null, parsed);
  });
}

/** Route-level body limits (10 MiB on inference routes), set as each route is registered. */
export function installBodyLimits(fastify: FastifyInstance): void {
  fastify.addHook('onRoute', (route) => {
    route.bodyLimit ??= bodyLimitsFor(route.url).bodyLimit;
  });
}

/** Fastify's default parser refuses prototype poisoning; so does this one (the reviver only when needed). */
function mayPoison(text: string): boolean {
  return text.includes('__proto__') || (text.includes('constructor') && text.includes('prototype'));
}

function refusePoison(key: string, value: unknown): unknown {
  if (
    key === '__proto__' ||
    (key === 'constructor' && value !== null && typeof value === 'object' && 'prototype' in value)
  )
    throw new AppError('validation_failed', `The JSON body may not hold a "${key}" key`, { fields: [key] });
  return value;
}
