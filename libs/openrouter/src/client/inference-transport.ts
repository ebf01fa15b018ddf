import type { Readable } from 'node:stream';
import { Pool } from 'undici';

export interface RawInferenceResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
}

export interface InferencePostOptions {
  /** Until the response headers arrive; the body is the caller's to bound. */
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Pooled sockets idle this long are closed, before a proxy or OpenRouter closes them under us. */
const KEEP_ALIVE_MS = 30_000;

/** undici's codes for a wait that ran out, reported as the one code the error mapping knows. */
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * POSTs of the inference calls (completions, embeddings) on undici: one keep-alive Pool per upstream
 * origin, no per-request agent, ClientRequest, AbortController or timer (undici's own header timeout
 * runs on its coarse shared clock). Failures carry only a `code` (ETIMEDOUT, ERR_CANCELED,
 * ECONNREFUSED…), never the request, so no header can leak through them.
 */
export class InferenceTransport {
  private readonly pools = new Map<string, Pool>();

  async post(
    url: URL,
    headers: Record<string, string>,
    payload: string | Buffer,
    opts: InferencePostOptions,
  ): Promise<RawInferenceResponse> {
    const signal = opts.signal;
    if (signal?.aborted) throw coded('ERR_CANCELED');
    try {
      const res = await this.poolOf(url.origin).request({
        path: url.pathname + url.search,
        method: 'POST',
        headers,
        body: payload,
        signal,
        headersTimeout: opts.timeoutMs,
        // A stream may pause between events for as long as the model thinks; the gateway bounds it.
        bodyTimeout: 0,
      });
      return { status: res.statusCode, headers: res.headers, body: res.body as unknown as Readable };
    } catch (err) {
      throw coded(signal?.aborted ? 'ERR_CANCELED' : codeOf(err));
    }
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.destroy().catch(() => undefined)));
  }

  private poolOf(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, { keepAliveTimeout: KEEP_ALIVE_MS, keepAliveMaxTimeout: KEEP_ALIVE_MS });
      this.pools.set(origin, pool);
    }
    return pool;
  }
}

function codeOf(err: unknown): string {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  const code = typeof e?.code === 'string' ? e.code : typeof e?.cause?.code === 'string' ? e.cause.code : undefined;
  if (!code) return 'ECONNRESET';
  return TIMEOUT_CODES.has(code) ? 'ETIMEDOUT' : code;
}

function coded(code: string): Error {
  return Object.assign(new Error(code), { code });
}
