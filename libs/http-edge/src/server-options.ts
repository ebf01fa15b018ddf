import type { ServerOptions } from 'node:http';
import { DEFAULT_BODY_LIMIT } from './edge-limits';

/** A request (headers and body) must have arrived within this long, or its socket is closed. */
export const REQUEST_TIMEOUT_MS = 30_000;
/** Idle keep-alive connections are closed after this long (above common load balancers' 60 s). */
export const KEEP_ALIVE_TIMEOUT_MS = 72_000;

export interface EdgeServerOptions {
  bodyLimit: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  /** Node checks request timeouts on this period, so a slow body is dropped within requestTimeout + this. */
  http: ServerOptions;
  trustProxy: boolean | string[] | ((address: string, hop: number) => boolean);
}

/**
 * Fastify's server options at the edge. `requestTimeout` covers receiving the request only, so responses
 * streamed for minutes are unaffected; `connectionTimeout` (socket inactivity) stays off for the same reason.
 */
export function edgeServerOptions(
  trustProxy: boolean | number | string[],
  requestTimeoutMs = REQUEST_TIMEOUT_MS,
): EdgeServerOptions {
  const checkEvery = Math.max(250, Math.min(5_000, Math.floor(requestTimeoutMs / 6)));
  return {
    bodyLimit: DEFAULT_BODY_LIMIT,
    requestTimeout: requestTimeoutMs,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    http: { connectionsCheckingInterval: checkEvery, headersTimeout: requestTimeoutMs },
    // A hop count as Fastify evaluates it (the typings only know the function form).
    trustProxy: typeof trustProxy === 'number' ? (_address: string, hop: number) => hop < trustProxy : trustProxy,
  };
}
