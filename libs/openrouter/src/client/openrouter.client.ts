import * as http from 'node:http';
import * as https from 'node:https';
import { PassThrough, type Readable } from 'node:stream';
import { Inject, Injectable, Logger, OnModuleDestroy, Optional } from '@nestjs/common';
import axios, { AxiosHeaders, type AxiosInstance } from 'axios';
import { InferenceTransport, type RawInferenceResponse } from './inference-transport';
import { MetricsService } from '#libs/metrics';
import { maskSecret } from '#libs/common';
import {
  badResponse,
  notConfigured,
  OpenRouterError,
  parseRetryAfter,
  statusError,
  transportError,
  type CallDescription,
} from './openrouter.errors';
import {
  OPENROUTER_CLIENT_OPTIONS,
  type ChatCompletionOptions,
  type InferenceOptions,
  type InferencePath,
  type InferenceResponse,
  type CreatedKey,
  type CreateKeyInput,
  type LimitReset,
  type ListKeysInput,
  type OpenRouterClientOptions,
  type UpdateKeyInput,
  type UpstreamHeaders,
  type UpstreamKey,
  type UpstreamResponse,
} from './openrouter.types';

/** OpenRouter answers at most this many keys per `GET /keys` page. */
const KEYS_PAGE_SIZE = 100;
/** Retry-After is honoured, but never makes a caller wait longer than this. */
const RETRY_AFTER_CAP_MS = 2_000;
const MAX_BACKOFF_MS = 2_000;
/** Buffered answers (key management, models, non-stream completions). */
const MAX_BUFFERED_BYTES = 32 * 1024 * 1024;
/** Error body of a streamed request, read whole so the gateway can pass it on. */
const MAX_ERROR_BODY_BYTES = 1024 * 1024;
/** Pooled sockets idle this long are closed, before a proxy or OpenRouter closes them under us. */
const IDLE_SOCKET_TIMEOUT_MS = 30_000;
/** Headers about the wire (axios has already decoded and de-chunked the body) or not ours to forward. */
const DROPPED_HEADERS = new Set([
  'connection',
  'content-encoding',
  'content-length',
  'keep-alive',
  'set-cookie',
  'transfer-encoding',
]);

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

interface ManagementCall {
  method: Method;
  /** Path below baseUrl, already encoded, with its query. */
  path: string;
  body?: unknown;
  /** Management endpoints need the provisioning key; /models needs nothing. */
  auth: 'provisioning' | 'none';
  /** Only idempotent calls are retried; creating a key twice would leak a key. */
  idempotent: boolean;
  /** Statuses that are an answer rather than a failure (404 on DELETE). */
  accept?: readonly number[];
}

/**
 * The one place that knows OpenRouter's URLs and wire formats: the management API (provisioning key)
 * and the runtime API used by the gateway (the user's key).
 */
@Injectable()
export class OpenRouterClient implements OnModuleDestroy {
  private readonly logger = new Logger(OpenRouterClient.name);
  private readonly baseUrl: string;
  private readonly provisioningKey: string | undefined;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly retryBaseDelayMs: number;
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly axios: AxiosInstance;
  private readonly transport = new InferenceTransport();
  private readonly inferenceUrls = new Map<InferencePath, URL>();
  /** Set at shutdown: a call cut off by the closing agents is not retried on them. */
  private closed = false;

  constructor(
    @Inject(OPENROUTER_CLIENT_OPTIONS) options: OpenRouterClientOptions,
    @Optional() private readonly metrics?: MetricsService,
  ) {
    this.baseUrl = normaliseBaseUrl(options.baseUrl);
    this.provisioningKey = options.provisioningKey?.trim() || undefined;
    this.timeoutMs = positive('timeoutMs', options.timeoutMs);
    this.maxRetries = nonNegativeInt('maxRetries', options.maxRetries ?? 2);
    this.retryBaseDelayMs = nonNegativeInt('retryBaseDelayMs', options.retryBaseDelayMs ?? 100);

    // Keep-alive: the gateway sends many requests, a TLS handshake each would cost more than the call.
    const agentOptions = { keepAlive: true, timeout: IDLE_SOCKET_TIMEOUT_MS };
    this.httpAgent = new http.Agent(agentOptions);
    this.httpsAgent = new https.Agent(agentOptions);
    this.axios = axios.create({
      httpAgent: this.httpAgent,
      httpsAgent: this.httpsAgent,
      // Every status is data here; mapping happens in one place below.
      validateStatus: () => true,
      timeout: this.timeoutMs,
      // No redirects: following one could carry the Authorization header elsewhere. It also makes
      // axios's timeout a wall-clock deadline up to the response headers.
      maxRedirects: 0,
      transitional: { clarifyTimeoutError: true },
    });
  }

  /** False when no provisioning key is configured: every management call would fail. */
  get provisioningConfigured(): boolean {
    return this.provisioningKey !== undefined;
  }

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
    await this.transport.close();
  }

  // ---- Management API (provisioning key) ----

  /** `POST /keys`. Never retried: a retry after a lost answer would create a second key. */
  async createKey(input: CreateKeyInput): Promise<CreatedKey> {
    const body: Record<string, unknown> = { name: input.name };
    if (typeof input.limit === 'number') body.limit = input.limit;
    if (input.limitReset) body.limit_reset = input.limitReset;
    const call: ManagementCall = { method: 'POST', path: '/keys', body, auth: 'provisioning', idempotent: false };
    const { status, json } = await this.send(call);

    // Current answers: `{key, data: {hash, …}}`; older ones carried the plaintext as `data.key`.
    const root = asRecord(json);
    const data = asRecord(root?.data);
    const key = str(root?.key) ?? str(data?.key);
    const hash = str(data?.hash) ?? str(root?.hash);
    if (!key || !hash) {
      // The key may exist upstream now; its hash (not a secret) lets reconciliation find it.
      this.logger.warn(`POST /keys answered ${status} without ${key ? 'a hash' : 'a key'}; hash=${safeId(hash)}`);
      throw badResponse(describe(call), status, `no ${key ? 'hash' : 'key'} in the body`);
    }
    return {
      key,
      hash,
      name: str(data?.name) ?? input.name,
      label: str(data?.label) ?? null,
      limit: num(data?.limit),
      createdAt: str(data?.created_at) ?? null,
    };
  }

  /** One page of `GET /keys` (OpenRouter pages by 100, newest first). */
  async listKeys(input: ListKeysInput = {}): Promise<{ keys: UpstreamKey[] }> {
    const { keys } = await this.listPage(input);
    return { keys };
  }

  /**
   * Every key, page by page, until a short or empty page. Deleting keys while iterating shifts the
   * offsets: collect first, then delete.
   */
  async *iterateKeys(input: { includeDisabled?: boolean } = {}): AsyncGenerator<UpstreamKey, void, undefined> {
    const seen = new Set<string>();
    let offset = 0;
    for (;;) {
      const { keys, rawCount } = await this.listPage({ offset, includeDisabled: input.includeDisabled });
      let fresh = 0;
      for (const key of keys) {
        if (seen.has(key.hash)) continue;
        seen.add(key.hash);
        fresh++;
        yield key;
      }
      // A page with nothing new means offset is being ignored: stop rather than loop forever.
      if (rawCount < KEYS_PAGE_SIZE || fresh === 0) return;
      offset += rawCount;
    }
  }

  /** `GET /keys/{hash}`. A missing key is an `openrouter_rejected` error with upstreamStatus 404. */
  async getKey(hash: string): Promise<UpstreamKey> {
    const call: ManagementCall = { method: 'GET', path: keyPath(hash), auth: 'provisioning', idempotent: true };
    return this.expectKey(call, await this.send(call));
  }

  /** `PATCH /keys/{hash}`: idempotent, so retried. `limit: null` removes the limit. */
  async updateKey(hash: string, patch: UpdateKeyInput): Promise<UpstreamKey> {
    const body: Record<string, unknown> = {};
    if (patch.name !== undefined) body.name = patch.name;
    if (patch.disabled !== undefined) body.disabled = patch.disabled;
    if (patch.limit !== undefined) body.limit = patch.limit;
    if (patch.limitReset !== undefined) body.limit_reset = patch.limitReset;
    const call: ManagementCall = { method: 'PATCH', path: keyPath(hash), body, auth: 'provisioning', idempotent: true };
    return this.expectKey(call, await this.send(call));
  }

  /** `DELETE /keys/{hash}`: retried; a 404 means a previous attempt (or someone) already deleted it. */
  async deleteKey(hash: string): Promise<{ alreadyGone: boolean }> {
    const call: ManagementCall = {
      method: 'DELETE',
      path: keyPath(hash),
      auth: 'provisioning',
      idempotent: true,
      accept: [404],
    };
    const { status } = await this.send(call);
    return { alreadyGone: status === 404 };
  }

  // ---- Runtime API ----

  /** `GET /models` (public, no key sent): OpenRouter's `{data: [...]}` as is. Retried. */
  async listModels(): Promise<unknown> {
    const call: ManagementCall = { method: 'GET', path: '/models', auth: 'none', idempotent: true };
    const { status, json } = await this.send(call);
    if (json === undefined) throw badResponse(describe(call), status, 'a body that is not JSON');
    return json;
  }

  /**
   * `POST /chat/completions` with the user's key, the answer parsed. HTTP error statuses are returned as
   * data; only transport failures throw. For `stream: true` and a 2xx, the body is handed over unread.
   */
  async chatCompletion(apiKey: string, body: unknown, opts: ChatCompletionOptions): Promise<UpstreamResponse> {
    const res = await this.inference('/chat/completions', apiKey, JSON.stringify(body), opts);
    if (res.stream)
      return { ...res, stream: guardStream(res.stream as Readable, { method: 'POST', path: '/chat/completions' }) };
    const json = parseJson(res.bytes.toString('utf8'));
    if (json === undefined && isOk(res.status))
      throw badResponse({ method: 'POST', path: '/chat/completions' }, res.status, 'a body that is not JSON');
    // A non-JSON error body (an HTML page from a proxy, say) is null: the gateway answers its own error.
    return { status: res.status, headers: res.headers, json: json ?? null };
  }

  /**
   * `POST` of an inference endpoint (chat completions, completions, embeddings) with the user's key and
   * the request body as the caller sent it. HTTP error statuses are returned as data (the gateway acts on
   * 401/402/403/429); only transport failures throw. Never retried: a completion costs money. For
   * `stream: true` and a 2xx the body is handed over unread and the timeout covers the wait for headers;
   * otherwise the timeout covers the whole answer.
   */
  async inference(
    path: InferencePath,
    apiKey: string,
    payload: string | Buffer,
    opts: InferenceOptions,
  ): Promise<InferenceResponse> {
    const call: CallDescription = { method: 'POST', path };
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const started = performance.now();
    let res: RawInferenceResponse;
    try {
      res = await this.transport.post(
        this.inferenceUrl(path),
        {
          ...opts.headers,
          authorization: `Bearer ${apiKey}`,
          'content-type': 'application/json',
          accept: opts.stream ? 'text/event-stream' : 'application/json',
          // Uncompressed: each SSE event is passed on as it arrives, and nothing needs inflating.
          'accept-encoding': 'identity',
        },
        payload,
        { timeoutMs, signal: opts.signal },
      );
    } catch (err) {
      const error = transportError(err, call, timeoutMs);
      this.metrics?.upstreamCall(`POST ${path}`, error.code, elapsed(started) / 1000, true);
      this.logger.warn(`POST ${path} failed after ${elapsed(started)}ms: ${error.code}`);
      throw error;
    }

    const status = res.status;
    const headers = toHeaders(res.headers);
    this.metrics?.upstreamCall(`POST ${path}`, status, elapsed(started) / 1000, !isOk(status));
    // Handed over as undici gives it (no extra stream hop on the gateway's path): its errors carry no request
    // header, and destroying it aborts the upstream request.
    if (opts.stream && isOk(status)) return { status, headers, stream: res.body };
    const left = Math.max(1, timeoutMs - (performance.now() - started));
    const bytes = await readBytes(res.body, opts.stream ? MAX_ERROR_BODY_BYTES : MAX_BUFFERED_BYTES, left);
    if (bytes === null) {
      this.logger.warn(`POST ${path} timed out reading the answer after ${elapsed(started)}ms`);
      throw transportError({ code: 'ETIMEDOUT' }, call, timeoutMs);
    }
    return { status, headers, bytes };
  }

  // ---- Plumbing ----

  /** Built once per path: a URL parse per request is waste on the gateway's hot path. */
  private inferenceUrl(path: InferencePath): URL {
    let url = this.inferenceUrls.get(path);
    if (!url) this.inferenceUrls.set(path, (url = new URL(this.baseUrl + path)));
    return url;
  }

  private async listPage(input: ListKeysInput): Promise<{ keys: UpstreamKey[]; rawCount: number }> {
    const query = new URLSearchParams();
    const offset = input.offset ?? 0;
    if (!Number.isInteger(offset) || offset < 0) throw new TypeError('offset must be a non-negative integer');
    if (offset > 0) query.set('offset', String(offset));
    if (input.includeDisabled) query.set('include_disabled', 'true');
    const path = query.size > 0 ? `/keys?${query}` : '/keys';
    const call: ManagementCall = { method: 'GET', path, auth: 'provisioning', idempotent: true };
    const { status, json } = await this.send(call);
    const data = asRecord(json)?.data;
    if (!Array.isArray(data)) throw badResponse(describe(call), status, 'no data array');
    const keys = data.map(toUpstreamKey).filter((k): k is UpstreamKey => k !== null);
    return { keys, rawCount: data.length };
  }

  private expectKey(call: ManagementCall, answer: { status: number; json: unknown }): UpstreamKey {
    const key = toUpstreamKey(asRecord(answer.json)?.data);
    if (!key) throw badResponse(describe(call), answer.status, 'no key object');
    return key;
  }

  /**
   * One management call with retries for idempotent ones: timeouts, connection errors, 429 and 5xx are
   * retried with exponential backoff and jitter (or Retry-After, capped). Resolves 2xx and `accept`ed
   * statuses with the parsed body (undefined when it is not JSON); throws OpenRouterError otherwise.
   */
  private async send(call: ManagementCall): Promise<{ status: number; json: unknown }> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (call.auth === 'provisioning') {
      if (!this.provisioningKey) throw notConfigured();
      headers.Authorization = `Bearer ${this.provisioningKey}`;
    }
    if (call.body !== undefined) headers['Content-Type'] = 'application/json';
    const desc = describe(call);
    const attempts = call.idempotent ? this.maxRetries + 1 : 1;

    for (let attempt = 1; ; attempt++) {
      const started = performance.now();
      let error: OpenRouterError;
      try {
        const res = await this.axios.request<string>({
          method: call.method,
          url: this.baseUrl + call.path,
          headers,
          data: call.body,
          responseType: 'text',
          maxContentLength: MAX_BUFFERED_BYTES,
        });
        if (isOk(res.status) || call.accept?.includes(res.status)) {
          const line = `${desc.method} ${desc.path} -> ${res.status} (${elapsed(started)}ms)`;
          this.metrics?.upstreamCall(`${desc.method} ${desc.path}`, res.status, elapsed(started) / 1000, false);
          // Changes are worth an info line; reads are debug noise.
          if (call.method === 'GET') this.logger.debug(line);
          else this.logger.log(line);
          return { status: res.status, json: parseJson(res.data) };
        }
        error = statusError(res.status, desc, parseRetryAfter(headerValue(res.headers, 'retry-after')));
      } catch (err) {
        // Never rethrown: axios errors carry the request config, Authorization header included.
        error = transportError(err, desc, this.timeoutMs);
      }

      this.metrics?.upstreamCall(
        `${desc.method} ${desc.path}`,
        error.upstreamStatus ?? error.code,
        elapsed(started) / 1000,
        true,
      );
      const outcome =
        `${desc.method} ${desc.path} failed after ${elapsed(started)}ms: ${error.code}` +
        (error.upstreamStatus !== undefined ? ` (HTTP ${error.upstreamStatus})` : '');
      if (!call.idempotent || !error.retryable || attempt >= attempts || this.closed) {
        this.logger.warn(`${outcome}${attempt > 1 ? `, attempt ${attempt}/${attempts}` : ''}`);
        throw error;
      }
      const delay = this.retryDelay(attempt, error.retryAfterMs);
      this.logger.warn(`${outcome}; retrying in ${delay}ms (attempt ${attempt + 1}/${attempts})`);
      await sleep(delay);
    }
  }

  private retryDelay(attempt: number, retryAfterMs: number | undefined): number {
    if (retryAfterMs !== undefined) return Math.min(retryAfterMs, RETRY_AFTER_CAP_MS);
    const ceiling = Math.min(this.retryBaseDelayMs * 2 ** (attempt - 1), MAX_BACKOFF_MS);
    // "Equal jitter": at least half the backoff, so that retries of many callers spread out.
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }
}

// ---- Wire helpers ----

function toUpstreamKey(raw: unknown): UpstreamKey | null {
  const r = asRecord(raw);
  const hash = str(r?.hash);
  if (!r || !hash) return null;
  return {
    hash,
    name: str(r.name) ?? '',
    label: str(r.label) ?? null,
    disabled: r.disabled === true,
    limit: num(r.limit),
    limitRemaining: num(r.limit_remaining),
    limitReset: limitResetOf(r.limit_reset),
    usage: num(r.usage),
    usageDaily: num(r.usage_daily),
    usageWeekly: num(r.usage_weekly),
    usageMonthly: num(r.usage_monthly),
    createdAt: str(r.created_at) ?? null,
    updatedAt: str(r.updated_at) ?? null,
  };
}

function limitResetOf(value: unknown): LimitReset | null {
  return value === 'daily' || value === 'weekly' || value === 'monthly' ? value : null;
}

function keyPath(hash: string): string {
  if (typeof hash !== 'string' || hash.length === 0)
    throw new TypeError('OpenRouter key hash must be a non-empty string');
  return `/keys/${encodeURIComponent(hash)}`;
}

/** Method and path for messages and logs; anything key-shaped in the path is masked, just in case. */
function describe(call: { method: string; path: string }): CallDescription {
  return { method: call.method, path: call.path.replace(/sk-[^/?&#]+/g, (m) => maskSecret(m)) };
}

function safeId(value: string | undefined): string {
  if (!value) return 'none';
  return value.startsWith('sk-') ? maskSecret(value) : value;
}

function toHeaders(raw: unknown): UpstreamHeaders {
  const source = raw instanceof AxiosHeaders ? raw.toJSON() : ((raw ?? {}) as Record<string, unknown>);
  const out: UpstreamHeaders = {};
  for (const [name, value] of Object.entries(source)) {
    const lower = name.toLowerCase();
    if (value === undefined || value === null || value === false || DROPPED_HEADERS.has(lower)) continue;
    out[lower] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}

function headerValue(headers: unknown, name: string): string | undefined {
  const value = headers instanceof AxiosHeaders ? headers.get(name) : (headers as Record<string, unknown>)?.[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * The body handed to the gateway. Its errors are replaced by an OpenRouterError (axios's abort error
 * carries the request config, Authorization header included), and destroying it (client gone) closes
 * the upstream request, so that OpenRouter stops generating.
 */
function guardStream(source: Readable, call: CallDescription): Readable {
  const out = new PassThrough();
  source.once('error', (err) => out.destroy(streamError(err, call)));
  source.once('close', () => {
    if (!source.readableEnded && !out.destroyed) out.destroy(streamError(undefined, call));
  });
  out.once('close', () => {
    if (!source.destroyed) source.destroy();
  });
  source.pipe(out);
  return out;
}

function streamError(cause: unknown, call: CallDescription): OpenRouterError {
  const code = (cause as { code?: unknown } | undefined)?.code;
  const why = code === 'ERR_CANCELED' ? 'was aborted' : 'was cut off';
  return new OpenRouterError('openrouter_unavailable', `OpenRouter ${call.method} ${call.path} stream ${why}`);
}

/**
 * Reads a body whole, up to `maxBytes` (a larger one is cut there: it yields what arrived). Null when
 * `timeoutMs` ran out first; a cut body yields what arrived, the caller judges it.
 */
function readBytes(stream: Readable, maxBytes: number, timeoutMs: number): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (timedOut: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!stream.readableEnded) stream.destroy();
      resolve(timedOut ? null : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, Math.min(size, maxBytes)));
    };
    const timer = setTimeout(() => finish(true), timeoutMs);
    stream.on('data', (chunk: Buffer) => {
      if (size + chunk.length > maxBytes) {
        chunks.push(chunk.subarray(0, maxBytes - size));
        size = maxBytes;
        return finish(false);
      }
      size += chunk.length;
      chunks.push(chunk);
    });
    stream.once('end', () => finish(false));
    stream.once('error', () => finish(false));
    stream.once('close', () => finish(false));
  });
}

function parseJson(text: unknown): unknown {
  if (typeof text !== 'string' || text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function isOk(status: number): boolean {
  return status >= 200 && status < 300;
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function normaliseBaseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(String(value ?? '').trim());
  } catch {
    throw new Error('OpenRouter baseUrl is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('OpenRouter baseUrl must be http(s)');
  return url.toString().replace(/\/+$/, '');
}

function positive(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new Error(`OpenRouter option ${name} must be a positive number`);
  }
  return value;
}

function nonNegativeInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0)
    throw new Error(`OpenRouter option ${name} must be a non-negative integer`);
  return value;
}
