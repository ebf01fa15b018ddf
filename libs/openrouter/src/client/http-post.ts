import * as http from 'node:http';
import * as https from 'node:https';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: http.IncomingMessage;
}

export interface HttpPostOptions {
  agent: http.Agent | https.Agent;
  /** Until the response headers arrive; the body is the caller's to bound. */
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * A bare POST on node:http, resolving when the response headers arrive with the body unread.
 * Completions are the gateway's hot path, where axios's per-request machinery cost several times
 * the proxying itself. Failures carry only a `code` (ETIMEDOUT, ERR_CANCELED, ECONNREFUSED…), never
 * the request, so no header can leak through them.
 */
export function httpPost(
  url: URL,
  headers: Record<string, string>,
  payload: string,
  opts: HttpPostOptions,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const fail = (code: string) => reject(Object.assign(new Error(code), { code }));
    if (opts.signal?.aborted) return fail('ERR_CANCELED');
    const transport = url.protocol === 'https:' ? https : http;
    const req = transport.request(url, {
      method: 'POST',
      agent: opts.agent,
      headers: { ...headers, 'Content-Length': String(Buffer.byteLength(payload)) },
    });
    let settled = false;
    const settle = () => {
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    const abortWith = (code: string) => {
      if (settled) return;
      settle();
      req.destroy();
      fail(code);
    };
    const onAbort = () => abortWith('ERR_CANCELED');
    const timer = setTimeout(() => abortWith('ETIMEDOUT'), opts.timeoutMs);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    req.once('response', (res) => {
      if (settled) return res.destroy();
      settle();
      // An abort after the headers ends the body (a stream being relayed) the same clean way.
      const abortBody = () => res.destroy(Object.assign(new Error('ERR_CANCELED'), { code: 'ERR_CANCELED' }));
      opts.signal?.addEventListener('abort', abortBody, { once: true });
      res.once('close', () => opts.signal?.removeEventListener('abort', abortBody));
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res });
    });
    req.once('error', (err: Error & { code?: string }) => {
      if (settled) return;
      settle();
      fail(err.code ?? 'ECONNRESET');
    });
    req.end(payload);
  });
}
