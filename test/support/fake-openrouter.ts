/**
 * A stand-in for OpenRouter (https://openrouter.ai/api/v1) that speaks its wire format over real HTTP,
 * so the app's HTTP client, timeouts, SSE relay, retries and key bookkeeping run exactly as in production.
 *
 * Wire shapes follow OpenRouter's API reference: management routes under /keys (201 on create, the
 * plaintext as top-level `key`, `{deleted: true}` on delete), errors as `{error: {code, message}}`, chat
 * completions in OpenAI's shape with `usage.cost`, and streams that open with an SSE comment and end with a
 * finish chunk, a separate usage chunk and `data: [DONE]`. `/responses` (OpenAI's Responses API) and `/messages`
 * (Anthropic's Messages API) answer in their own documented shapes, JSON or typed events, with usage and cost.
 */
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export type RouteName =
  | 'keys.create'
  | 'keys.list'
  | 'keys.get'
  | 'keys.update'
  | 'keys.delete'
  | 'chat'
  | 'completions'
  | 'embeddings'
  | 'models'
  | 'responses'
  | 'messages';

/** The routes that spend a user's key (forced statuses and usage apply to each). */
export type InferenceRoute = 'chat' | 'completions' | 'embeddings' | 'responses' | 'messages';

/** What an injected fault does: answer with a status, stall before answering normally, or drop the socket. */
export type Behaviour = { status: number; body?: unknown } | { delayMs: number } | 'reset';

export interface FakeKey {
  readonly hash: string;
  /** Plaintext `sk-or-v1-…`, as only the creator ever sees it. */
  readonly key: string;
  readonly name: string;
  readonly label: string;
  readonly limit: number | null;
  readonly disabled: boolean;
  readonly deleted: boolean;
  /** Credits spent, summed from chat `usage.cost`. */
  readonly usage: number;
  readonly createdAt: string;
  readonly updatedAt: string | null;
}

export interface LoggedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly route: RouteName | null;
  /** Masked bearer (`sk-or-v1-…b465`), null when absent. */
  readonly auth: string | null;
  /** SHA-256 of the bearer, i.e. the key's `hash` when the bearer is a key this fake issued. */
  readonly keyHash: string | null;
  readonly body: unknown;
  /** The body's bytes as received (utf-8), '' when there was none. */
  readonly text: string;
  /** The Anthropic protocol headers received (`anthropic-version`, `anthropic-beta`), by lower-case name. */
  readonly anthropicHeaders: Readonly<Record<string, string>>;
  /** 0 until a status line was written. */
  readonly status: number;
  /** True when the client went away before the response was complete. */
  readonly aborted: boolean;
}

export interface UsageSettings {
  prompt_tokens: number;
  completion_tokens: number;
  cost: number;
}

export interface FakeOpenRouterOptions {
  provisioningKey?: string;
  /** Page size of GET /keys (OpenRouter's is 100). */
  pageSize?: number;
  /** Wait before answering a chat request, like model latency. */
  chatDelayMs?: number;
  /** Wait between SSE chunks of a streamed answer. */
  streamChunkDelayMs?: number;
  usage?: Partial<UsageSettings>;
}

export interface StreamHold {
  /** Resolves once a held stream has written its first content chunk. */
  readonly firstChunkSent: Promise<void>;
  /** Lets held streams finish; streams started afterwards are no longer held. */
  release(): void;
}

export const DEFAULT_PROVISIONING_KEY = 'sk-or-v1-prov-test';

export const FAKE_MODELS = [
  fakeModel('openai/gpt-4o-mini', 'OpenAI: GPT-4o-mini', 128000, '0.00000015', '0.0000006'),
  fakeModel('anthropic/claude-3.5-haiku', 'Anthropic: Claude 3.5 Haiku', 200000, '0.0000008', '0.000004'),
  fakeModel('meta-llama/llama-3.1-8b-instruct', 'Meta: Llama 3.1 8B Instruct', 131072, '0.00000002', '0.00000005'),
];

const API_PREFIX = '/api/v1';
const DEFAULT_MODEL = 'openai/gpt-4o-mini';
const STREAM_CONTENT_CHUNKS = 3;
const POOL_SETTLE_MS = 100;

interface KeyRecord {
  hash: string;
  key: string;
  name: string;
  label: string;
  limit: number | null;
  disabled: boolean;
  deleted: boolean;
  usage: number;
  createdAt: string;
  updatedAt: string | null;
}

interface MutableLogEntry {
  method: string;
  path: string;
  query: string;
  route: RouteName | null;
  auth: string | null;
  keyHash: string | null;
  body: unknown;
  text: string;
  anthropicHeaders: Record<string, string>;
  status: number;
  aborted: boolean;
}

/** One request in flight, with what the handlers need and what the bookkeeping records. */
interface Exchange {
  readonly req: http.IncomingMessage;
  readonly res: http.ServerResponse;
  readonly url: URL;
  readonly bearer: string | null;
  readonly entry: MutableLogEntry;
  /** Aborted when the connection closes before the response completed. */
  readonly closed: AbortSignal;
  /** Set when this fake dropped the connection itself, so it is not counted as a client abort. */
  droppedByServer: boolean;
}

interface Route {
  readonly name: RouteName;
  readonly method: string;
  readonly pattern: RegExp;
  readonly handle: (ex: Exchange, params: string[]) => Promise<void> | void;
}

interface HoldState {
  readonly released: Promise<void>;
  markSent(): void;
  release(): void;
}

interface ChatReply {
  id: string;
  model: string;
  created: number;
  content: string;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class FakeOpenRouter extends EventEmitter {
  readonly provisioningKey: string;
  pageSize: number;
  chatDelayMs: number;
  streamChunkDelayMs: number;
  /** Keys created through POST /keys (not seeded ones). */
  createdCount = 0;
  /** Keys deleted through DELETE /keys/:hash (not revokeKey). */
  deletedCount = 0;
  modelsCalls = 0;
  /** Responses the client abandoned before they completed; also emitted as 'abort' with the log entry. */
  aborts = 0;
  readonly requests: readonly LoggedRequest[] = [];

  private readonly server = http.createServer((req, res) => void this.dispatch(req, res));
  private readonly records: KeyRecord[] = [];
  private readonly modes = new Map<RouteName, Behaviour>();
  private readonly queued = new Map<RouteName, Behaviour[]>();
  private readonly forcedChat = new Map<string, { status: number; body: unknown }>();
  private readonly inFlight = new Set<Exchange>();
  private usageSettings: UsageSettings;
  private hold: HoldState | null = null;
  private port = 0;

  private readonly routes: Route[] = [
    { name: 'keys.create', method: 'POST', pattern: /^\/keys\/?$/, handle: (ex) => this.createKey(ex) },
    { name: 'keys.list', method: 'GET', pattern: /^\/keys\/?$/, handle: (ex) => this.listKeys(ex) },
    { name: 'keys.get', method: 'GET', pattern: /^\/keys\/([^/]+)$/, handle: (ex, p) => this.getKey(ex, p[0]) },
    { name: 'keys.update', method: 'PATCH', pattern: /^\/keys\/([^/]+)$/, handle: (ex, p) => this.updateKey(ex, p[0]) },
    {
      name: 'keys.delete',
      method: 'DELETE',
      pattern: /^\/keys\/([^/]+)$/,
      handle: (ex, p) => this.deleteKey(ex, p[0]),
    },
    { name: 'chat', method: 'POST', pattern: /^\/chat\/completions$/, handle: (ex) => this.chat(ex) },
    { name: 'models', method: 'GET', pattern: /^\/models$/, handle: (ex) => this.models(ex) },
    { name: 'completions', method: 'POST', pattern: /^\/completions$/, handle: (ex) => this.completions(ex) },
    { name: 'embeddings', method: 'POST', pattern: /^\/embeddings$/, handle: (ex) => this.embeddings(ex) },
    { name: 'responses', method: 'POST', pattern: /^\/responses$/, handle: (ex) => this.responses(ex) },
    { name: 'messages', method: 'POST', pattern: /^\/messages$/, handle: (ex) => this.messages(ex) },
  ];

  constructor(options: FakeOpenRouterOptions = {}) {
    super();
    this.provisioningKey = options.provisioningKey ?? DEFAULT_PROVISIONING_KEY;
    this.pageSize = options.pageSize ?? 100;
    this.chatDelayMs = options.chatDelayMs ?? 0;
    this.streamChunkDelayMs = options.streamChunkDelayMs ?? 0;
    this.usageSettings = { prompt_tokens: 10, completion_tokens: 20, cost: 0.0001, ...options.usage };
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  /** Listens on 127.0.0.1, on a random port the first time and on the same port afterwards. */
  async start(): Promise<void> {
    // Unreferenced, so that a test file that forgets stop() still ends instead of hanging.
    this.server.unref();
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        this.port = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  async stop(): Promise<void> {
    this.hold?.release();
    await this.closeServer();
  }

  /** Stops listening and drops open connections (kept-alive ones included), so new requests get ECONNREFUSED. */
  async refuseConnections(): Promise<void> {
    await this.closeServer();
    // Give clients time to see the dropped sockets leave their keep-alive pools; a request sent on one of
    // them would fail with "other side closed" instead of ECONNREFUSED.
    await sleep(POOL_SETTLE_MS);
  }

  /** Listens again on the port used before refuseConnections(). */
  async resume(): Promise<void> {
    await this.start();
  }

  /** e.g. http://127.0.0.1:PORT/api/v1, what the app's OPENROUTER_BASE_URL should be. */
  get baseUrl(): string {
    if (!this.port) throw new Error('FakeOpenRouter is not started');
    return `http://127.0.0.1:${this.port}${API_PREFIX}`;
  }

  // ---- keys ------------------------------------------------------------------------------------

  /** Every key ever issued, deleted ones included (see `deleted`). */
  get keys(): readonly FakeKey[] {
    return this.records;
  }

  /** Keys that would authenticate a chat call now. */
  liveKeys(): FakeKey[] {
    return this.records.filter(isLive);
  }

  /** Inserts a key as if someone else (another service, the dashboard) had created it. */
  seedKey(init: { name: string; limit?: number | null; disabled?: boolean }): FakeKey {
    const record = this.issueKey(init.name, init.limit ?? null);
    record.disabled = init.disabled ?? false;
    return record;
  }

  /** Deletes a key behind the app's back, so that it answers 401 from now on. */
  revokeKey(plaintextOrHash: string): void {
    this.findRecord(plaintextOrHash).deleted = true;
  }

  // ---- key spend (GET /keys/{hash} answers usage and limit_remaining from these) ---------------

  /** Sets what a key has spent (USD), as if its user had used it elsewhere too. */
  setKeyUsage(plaintextOrHash: string, usd: number): void {
    this.findRecord(plaintextOrHash).usage = usd;
  }

  // ---- end of key spend ------------------------------------------------------------------------

  // ---- fault injection -------------------------------------------------------------------------

  /** Applies `behaviour` to the next `times` requests of `route`, before any auth check. */
  failNext(route: RouteName, behaviour: Behaviour, times = 1): void {
    const queue = this.queued.get(route) ?? [];
    for (let i = 0; i < times; i++) queue.push(behaviour);
    this.queued.set(route, queue);
  }

  /** Applies `behaviour` to every request of `route` until clearModes(); failNext() entries go first. */
  setMode(route: RouteName, behaviour: Behaviour): void {
    this.modes.set(route, behaviour);
  }

  clearModes(): void {
    this.modes.clear();
    this.queued.clear();
  }

  /** Makes chat calls with this key answer `status` (e.g. 401, 402, 403) whatever the key's state; null clears. */
  chatStatusForKey(plaintextOrHash: string, status: number | null, body?: unknown): void {
    const hash = this.findRecord(plaintextOrHash).hash;
    if (status === null) this.forcedChat.delete(hash);
    else this.forcedChat.set(hash, { status, body: body ?? errorBody(status) });
  }

  setUsage(usage: Partial<UsageSettings>): void {
    this.usageSettings = { ...this.usageSettings, ...usage };
  }

  /** Holds every stream that starts while the hold is active right after its first content chunk. */
  holdStreams(): StreamHold {
    this.hold?.release();
    let markSent!: () => void;
    let unblock!: () => void;
    const firstChunkSent = new Promise<void>((resolve) => (markSent = resolve));
    const released = new Promise<void>((resolve) => (unblock = resolve));
    const hold: HoldState = {
      released,
      markSent,
      release: () => {
        if (this.hold === hold) this.hold = null;
        unblock();
      },
    };
    this.hold = hold;
    return { firstChunkSent, release: hold.release };
  }

  // ---- counters --------------------------------------------------------------------------------

  get chatCalls(): number {
    return this.requests.filter((r) => r.route === 'chat').length;
  }

  /** Chat calls that presented this key, whatever they were answered (401s included). */
  chatCallsFor(plaintextOrHash: string): number {
    const hash = this.findRecord(plaintextOrHash).hash;
    return this.requests.filter((r) => r.route === 'chat' && r.keyHash === hash).length;
  }

  /** Calls of an inference route that presented this key, whatever they were answered (401s included). */
  callsFor(route: InferenceRoute, plaintextOrHash: string): number {
    const hash = this.findRecord(plaintextOrHash).hash;
    return this.requests.filter((r) => r.route === route && r.keyHash === hash).length;
  }

  // ---- dispatch --------------------------------------------------------------------------------

  private async dispatch(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    const match = this.match(req.method ?? 'GET', url.pathname);
    const ex = this.track(req, res, url, match?.route.name ?? null);
    try {
      ex.entry.body = await readJson(req, ex.entry);
      if (!match) throw new HttpError(404, 'Not Found');
      if (await this.applyInjectedBehaviour(ex, match.route.name)) return;
      await match.route.handle(ex, match.params);
    } catch (err) {
      if (ex.res.headersSent) {
        ex.droppedByServer = true;
        ex.res.destroy();
      } else if (err instanceof HttpError) sendJson(ex, err.status, errorBody(err.status, err.message));
      else sendJson(ex, 500, errorBody(500, String(err)));
    }
  }

  private match(method: string, pathname: string): { route: Route; params: string[] } | null {
    if (!pathname.startsWith(API_PREFIX)) return null;
    const rest = pathname.slice(API_PREFIX.length);
    for (const route of this.routes) {
      const m = route.method === method ? route.pattern.exec(rest) : null;
      if (m) return { route, params: m.slice(1).map(decodeURIComponent) };
    }
    return null;
  }

  /** Logs the request and watches for the client leaving before the response completed. */
  private track(req: http.IncomingMessage, res: http.ServerResponse, url: URL, route: RouteName | null): Exchange {
    const bearer = bearerOf(req);
    const entry: MutableLogEntry = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.search,
      route,
      auth: bearer === null ? null : maskSecret(bearer),
      keyHash: bearer === null ? null : hashKey(bearer),
      body: undefined,
      text: '',
      anthropicHeaders: anthropicHeadersOf(req),
      status: 0,
      aborted: false,
    };
    (this.requests as LoggedRequest[]).push(entry);
    const controller = new AbortController();
    const ex: Exchange = { req, res, url, bearer, entry, closed: controller.signal, droppedByServer: false };
    this.inFlight.add(ex);
    res.on('close', () => {
      this.inFlight.delete(ex);
      if (res.writableFinished) return;
      entry.aborted = true;
      controller.abort();
      if (ex.droppedByServer) return;
      this.aborts++;
      this.emit('abort', entry);
    });
    return ex;
  }

  /** Returns true when the injected behaviour answered the request itself. */
  private async applyInjectedBehaviour(ex: Exchange, route: RouteName): Promise<boolean> {
    const behaviour = this.queued.get(route)?.shift() ?? this.modes.get(route);
    if (behaviour === undefined) return false;
    if (behaviour === 'reset') {
      ex.droppedByServer = true;
      ex.req.socket.destroy();
      return true;
    }
    if ('delayMs' in behaviour) {
      // Like a slow upstream, the work still happens after the wait even if the client gave up.
      await pause(behaviour.delayMs, ex.closed);
      return false;
    }
    sendJson(ex, behaviour.status, behaviour.body ?? errorBody(behaviour.status));
    return true;
  }

  private async closeServer(): Promise<void> {
    for (const ex of this.inFlight) ex.droppedByServer = true;
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  // ---- auth ------------------------------------------------------------------------------------

  private requireProvisioning(ex: Exchange): void {
    if (ex.bearer === null) throw new HttpError(401, 'No auth credentials found');
    if (ex.bearer !== this.provisioningKey) throw new HttpError(401, 'Invalid management key');
  }

  private requireLiveKey(ex: Exchange): KeyRecord {
    if (ex.bearer === null) throw new HttpError(401, 'No auth credentials found');
    const record = this.records.find((r) => r.key === ex.bearer);
    if (!record || !isLive(record)) throw new HttpError(401, 'User not found.');
    return record;
  }

  // ---- management routes -----------------------------------------------------------------------

  private createKey(ex: Exchange): void {
    this.requireProvisioning(ex);
    const body = requireObject(ex.entry.body);
    if (typeof body.name !== 'string' || body.name.trim() === '') throw new HttpError(400, 'name is required');
    const record = this.issueKey(body.name, parseLimit(body.limit));
    this.createdCount++;
    sendJson(ex, 201, { data: keyView(record), key: record.key });
  }

  private listKeys(ex: Exchange): void {
    this.requireProvisioning(ex);
    const offset = Number(ex.url.searchParams.get('offset') ?? '0');
    if (!Number.isInteger(offset) || offset < 0) throw new HttpError(400, 'offset must be a non-negative integer');
    const includeDisabled = ex.url.searchParams.get('include_disabled') === 'true';
    // Newest first, as OpenRouter lists "the most recent" keys.
    const visible = this.records.filter((r) => !r.deleted && (includeDisabled || !r.disabled)).reverse();
    sendJson(ex, 200, { data: visible.slice(offset, offset + this.pageSize).map(keyView) });
  }

  private getKey(ex: Exchange, hash: string): void {
    this.requireProvisioning(ex);
    sendJson(ex, 200, { data: keyView(this.existing(hash)) });
  }

  private updateKey(ex: Exchange, hash: string): void {
    this.requireProvisioning(ex);
    const record = this.existing(hash);
    const body = requireObject(ex.entry.body);
    if (body.name !== undefined && typeof body.name !== 'string') throw new HttpError(400, 'name must be a string');
    if (body.disabled !== undefined && typeof body.disabled !== 'boolean') {
      throw new HttpError(400, 'disabled must be a boolean');
    }
    if (typeof body.name === 'string') record.name = body.name;
    if (typeof body.disabled === 'boolean') record.disabled = body.disabled;
    if ('limit' in body) record.limit = parseLimit(body.limit);
    record.updatedAt = new Date().toISOString();
    sendJson(ex, 200, { data: keyView(record) });
  }

  private deleteKey(ex: Exchange, hash: string): void {
    this.requireProvisioning(ex);
    this.existing(hash).deleted = true;
    this.deletedCount++;
    sendJson(ex, 200, { deleted: true });
  }

  // ---- runtime routes --------------------------------------------------------------------------

  private async chat(ex: Exchange): Promise<void> {
    const forced = ex.entry.keyHash === null ? undefined : this.forcedChat.get(ex.entry.keyHash);
    if (forced) return sendJson(ex, forced.status, forced.body);
    const caller = this.requireLiveKey(ex);
    const body = requireObject(ex.entry.body);
    if (!Array.isArray(body.messages)) throw new HttpError(400, 'messages is required');
    await pause(this.chatDelayMs, ex.closed);
    const usage = usageView(this.usageSettings);
    caller.usage += usage.cost;
    const reply: ChatReply = {
      id: `gen-${Math.floor(Date.now() / 1000)}-${randomBytes(10).toString('hex')}`,
      model: typeof body.model === 'string' ? body.model : DEFAULT_MODEL,
      created: Math.floor(Date.now() / 1000),
      content: lastUserText(body.messages) || 'ok',
    };
    if (body.stream === true) await this.stream(ex, reply, usage);
    else sendJson(ex, 200, completionBody(reply, usage));
  }

  private async stream(ex: Exchange, reply: ChatReply, usage: ReturnType<typeof usageView>): Promise<void> {
    ex.entry.status = 200;
    ex.res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      'x-generation-id': reply.id,
    });
    // OpenRouter opens streams with keep-alive comments; relays and parsers must tolerate them.
    ex.res.write(': OPENROUTER PROCESSING\n\n');
    const pieces = splitText(reply.content, STREAM_CONTENT_CHUNKS);
    const events = [
      ...pieces.map((piece) => chunkBody(reply, { role: 'assistant', content: piece }, null)),
      chunkBody(reply, { role: 'assistant', content: '' }, 'stop'),
      { ...chunkBody(reply, { role: 'assistant', content: '' }, null), usage },
    ];
    const hold = this.hold;
    for (const [i, event] of events.entries()) {
      if (i > 0) await pause(this.streamChunkDelayMs, ex.closed);
      if (ex.closed.aborted) return;
      ex.res.write(`data: ${JSON.stringify(event)}\n\n`);
      if (i === 0 && hold) {
        hold.markSent();
        await Promise.race([hold.released, whenAborted(ex.closed)]);
      }
    }
    if (!ex.closed.aborted) ex.res.end('data: [DONE]\n\n');
  }

  /** Public on OpenRouter: no key needed. */
  private models(ex: Exchange): void {
    this.modelsCalls++;
    sendJson(ex, 200, { data: FAKE_MODELS });
  }

  /** `POST /completions` (legacy text completions): the prompt echoed back, streamed like chat. */
  private async completions(ex: Exchange): Promise<void> {
    const forced = ex.entry.keyHash === null ? undefined : this.forcedChat.get(ex.entry.keyHash);
    if (forced) return sendJson(ex, forced.status, forced.body);
    const caller = this.requireLiveKey(ex);
    const body = requireObject(ex.entry.body);
    const prompt = Array.isArray(body.prompt) ? body.prompt.join('') : body.prompt;
    if (typeof prompt !== 'string') throw new HttpError(400, 'prompt is required');
    await pause(this.chatDelayMs, ex.closed);
    const usage = usageView(this.usageSettings);
    caller.usage += usage.cost;
    const id = `gen-${Math.floor(Date.now() / 1000)}-${randomBytes(10).toString('hex')}`;
    const model = typeof body.model === 'string' ? body.model : DEFAULT_MODEL;
    const created = Math.floor(Date.now() / 1000);
    const choice = (text: string, finish: string | null) => ({ text, index: 0, finish_reason: finish, logprobs: null });
    const base = { id, provider: 'OpenAI', model, object: 'text_completion', created };
    if (body.stream !== true) return sendJson(ex, 200, { ...base, choices: [choice(prompt || 'ok', 'stop')], usage });
    ex.entry.status = 200;
    ex.res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    ex.res.write(': OPENROUTER PROCESSING\n\n');
    const events = [
      ...splitText(prompt || 'ok', STREAM_CONTENT_CHUNKS).map((piece) => ({ ...base, choices: [choice(piece, null)] })),
      { ...base, choices: [choice('', 'stop')] },
      { ...base, choices: [], usage },
    ];
    for (const [i, event] of events.entries()) {
      if (i > 0) await pause(this.streamChunkDelayMs, ex.closed);
      if (ex.closed.aborted) return;
      ex.res.write(`data: ${JSON.stringify(event)}\n\n`);
    }
    if (!ex.closed.aborted) ex.res.end('data: [DONE]\n\n');
  }

  /** `POST /embeddings`: one 8-dimension vector per input, derived from its text; usage has no completion. */
  private async embeddings(ex: Exchange): Promise<void> {
    const forced = ex.entry.keyHash === null ? undefined : this.forcedChat.get(ex.entry.keyHash);
    if (forced) return sendJson(ex, forced.status, forced.body);
    const caller = this.requireLiveKey(ex);
    const body = requireObject(ex.entry.body);
    const inputs = typeof body.input === 'string' ? [body.input] : body.input;
    if (!Array.isArray(inputs) || inputs.length === 0 || !inputs.every((i) => typeof i === 'string')) {
      throw new HttpError(400, 'input must be a string or an array of strings');
    }
    await pause(this.chatDelayMs, ex.closed);
    const { prompt_tokens, cost } = this.usageSettings;
    caller.usage += cost;
    sendJson(ex, 200, {
      id: `gen-emb-${randomBytes(10).toString('hex')}`,
      object: 'list',
      data: inputs.map((text, index) => ({
        object: 'embedding',
        index,
        embedding: body.encoding_format === 'base64' ? base64Of(vectorOf(text as string)) : vectorOf(text as string),
      })),
      model: typeof body.model === 'string' ? body.model : 'openai/text-embedding-3-small',
      usage: { prompt_tokens, total_tokens: prompt_tokens, cost },
    });
  }

  // ---- Responses API and Anthropic Messages API -------------------------------------------------

  /**
   * `POST /responses` (OpenAI's Responses API, as OpenRouter serves it, stateless): the last user text echoed
   * back as one `output_text`; usage as `input_tokens`/`output_tokens`/`total_tokens`/`cost`. Streams are typed
   * events (`event: response.created` … `response.output_text.delta` … `response.completed`, usage in the last).
   */
  private async responses(ex: Exchange): Promise<void> {
    const forced = ex.entry.keyHash === null ? undefined : this.forcedChat.get(ex.entry.keyHash);
    if (forced) return sendJson(ex, forced.status, forced.body);
    const caller = this.requireLiveKey(ex);
    const body = requireObject(ex.entry.body);
    if (typeof body.input !== 'string' && !Array.isArray(body.input)) throw new HttpError(400, 'input is required');
    if (body.previous_response_id !== undefined && body.previous_response_id !== null) {
      throw new HttpError(400, 'previous_response_id is not supported: the Responses API is stateless here');
    }
    await pause(this.chatDelayMs, ex.closed);
    const { prompt_tokens, completion_tokens, cost } = this.usageSettings;
    caller.usage += cost;
    const text = (typeof body.input === 'string' ? body.input : lastUserText(body.input)) || 'ok';
    const id = `resp_${randomBytes(12).toString('hex')}`;
    const itemId = `msg_${randomBytes(12).toString('hex')}`;
    const base = {
      id,
      object: 'response',
      created_at: Math.floor(Date.now() / 1000),
      model: typeof body.model === 'string' ? body.model : DEFAULT_MODEL,
      error: null,
      incomplete_details: null,
      instructions: typeof body.instructions === 'string' ? body.instructions : null,
      max_output_tokens: typeof body.max_output_tokens === 'number' ? body.max_output_tokens : null,
      parallel_tool_calls: true,
      previous_response_id: null,
      reasoning: { effort: null, summary: null },
      store: false,
      temperature: 1,
      text: { format: { type: 'text' } },
      tool_choice: 'auto',
      tools: [],
      top_p: 1,
      truncation: 'disabled',
      user: null,
      metadata: {},
    };
    const part = (t: string) => ({ type: 'output_text', text: t, annotations: [], logprobs: [] });
    const item = (t: string, status: string) => ({
      type: 'message',
      id: itemId,
      status,
      role: 'assistant',
      content: t ? [part(t)] : [],
    });
    const usage = {
      input_tokens: prompt_tokens,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: completion_tokens,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: prompt_tokens + completion_tokens,
      cost,
    };
    const done = { ...base, status: 'completed', output: [item(text, 'completed')], usage };
    if (body.stream !== true) return sendJson(ex, 200, done);
    const at = { item_id: itemId, output_index: 0, content_index: 0 };
    const events: Record<string, unknown>[] = [
      { type: 'response.created', response: { ...base, status: 'in_progress', output: [], usage: null } },
      { type: 'response.in_progress', response: { ...base, status: 'in_progress', output: [], usage: null } },
      { type: 'response.output_item.added', output_index: 0, item: item('', 'in_progress') },
      { type: 'response.content_part.added', ...at, part: part('') },
      ...splitText(text, STREAM_CONTENT_CHUNKS).map((delta) => ({
        type: 'response.output_text.delta',
        ...at,
        delta,
        logprobs: [],
      })),
      { type: 'response.output_text.done', ...at, text, logprobs: [] },
      { type: 'response.content_part.done', ...at, part: part(text) },
      { type: 'response.output_item.done', output_index: 0, item: item(text, 'completed') },
      { type: 'response.completed', response: done },
    ];
    await this.typedStream(
      ex,
      events.map((event, i) => ({ ...event, sequence_number: i })),
    );
  }

  /**
   * `POST /messages` (Anthropic's Messages API, as OpenRouter serves it): the last user text echoed back as one
   * text block; usage as `input_tokens`/`output_tokens`/`cost`. Streams: `message_start` (input tokens),
   * `content_block_*`, `message_delta` (output tokens, cost), `message_stop`.
   */
  private async messages(ex: Exchange): Promise<void> {
    const forced = ex.entry.keyHash === null ? undefined : this.forcedChat.get(ex.entry.keyHash);
    if (forced) return sendJson(ex, forced.status, forced.body);
    const caller = this.requireLiveKey(ex);
    const body = requireObject(ex.entry.body);
    if (!Array.isArray(body.messages)) throw new HttpError(400, 'messages: Field required');
    if (typeof body.max_tokens !== 'number') throw new HttpError(400, 'max_tokens: Field required');
    await pause(this.chatDelayMs, ex.closed);
    const { prompt_tokens, completion_tokens, cost } = this.usageSettings;
    caller.usage += cost;
    const text = lastUserText(body.messages) || 'ok';
    const message = {
      id: `msg_${randomBytes(12).toString('hex')}`,
      type: 'message',
      role: 'assistant',
      model: typeof body.model === 'string' ? body.model : 'anthropic/claude-3.5-haiku',
      content: [{ type: 'text', text }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: {
        input_tokens: prompt_tokens,
        output_tokens: completion_tokens,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        cost,
      },
    };
    if (body.stream !== true) return sendJson(ex, 200, message);
    await this.typedStream(ex, [
      {
        type: 'message_start',
        message: {
          ...message,
          content: [],
          stop_reason: null,
          usage: {
            input_tokens: prompt_tokens,
            output_tokens: 1,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 0,
          },
        },
      },
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'ping' },
      ...splitText(text, STREAM_CONTENT_CHUNKS).map((piece) => ({
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'text_delta', text: piece },
      })),
      { type: 'content_block_stop', index: 0 },
      {
        type: 'message_delta',
        delta: { stop_reason: 'end_turn', stop_sequence: null },
        usage: { output_tokens: completion_tokens, cost },
      },
      { type: 'message_stop' },
    ]);
  }

  /** Typed server-sent events (`event: <type>` then `data: {…}`), held and paced like chat streams; no `[DONE]`. */
  private async typedStream(ex: Exchange, events: Record<string, unknown>[]): Promise<void> {
    ex.entry.status = 200;
    ex.res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    ex.res.write(': OPENROUTER PROCESSING\n\n');
    const hold = this.hold;
    let held = false;
    for (const [i, event] of events.entries()) {
      if (i > 0) await pause(this.streamChunkDelayMs, ex.closed);
      if (ex.closed.aborted) return;
      ex.res.write(`event: ${String(event.type)}\ndata: ${JSON.stringify(event)}\n\n`);
      if (!held && hold && /delta$/.test(String(event.type))) {
        held = true;
        hold.markSent();
        await Promise.race([hold.released, whenAborted(ex.closed)]);
      }
    }
    if (!ex.closed.aborted) ex.res.end();
  }

  // ---- records ---------------------------------------------------------------------------------

  private issueKey(name: string, limit: number | null): KeyRecord {
    const secret = randomBytes(32).toString('hex');
    const key = `sk-or-v1-${secret}`;
    const record: KeyRecord = {
      hash: hashKey(key),
      key,
      name,
      label: `sk-or-v1-${secret.slice(0, 3)}...${secret.slice(-4)}`,
      limit,
      disabled: false,
      deleted: false,
      usage: 0,
      createdAt: new Date().toISOString(),
      updatedAt: null,
    };
    this.records.push(record);
    return record;
  }

  private existing(hash: string): KeyRecord {
    const record = this.records.find((r) => r.hash === hash && !r.deleted);
    if (!record) throw new HttpError(404, 'Not Found');
    return record;
  }

  private findRecord(plaintextOrHash: string): KeyRecord {
    const record = this.records.find((r) => r.hash === plaintextOrHash || r.key === plaintextOrHash);
    if (!record) throw new Error(`FakeOpenRouter: no key ${maskSecret(plaintextOrHash)}`);
    return record;
  }
}

// ---- helpers -----------------------------------------------------------------------------------

function isLive(record: KeyRecord): boolean {
  return !record.deleted && !record.disabled;
}

function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

function maskSecret(secret: string): string {
  return secret.length <= 16 ? '…' : `${secret.slice(0, 9)}…${secret.slice(-4)}`;
}

function anthropicHeadersOf(req: http.IncomingMessage): Record<string, string> {
  const found: Record<string, string> = {};
  for (const name of ['anthropic-version', 'anthropic-beta']) {
    const value = req.headers[name];
    if (typeof value === 'string') found[name] = value;
  }
  return found;
}

function bearerOf(req: http.IncomingMessage): string | null {
  const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  return match ? match[1].trim() : null;
}

async function readJson(req: http.IncomingMessage, entry: MutableLogEntry): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  entry.text = text;
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'Invalid JSON body');
  }
}

function requireObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'Expected a JSON object body');
  }
  return body as Record<string, unknown>;
}

function parseLimit(value: unknown): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new HttpError(400, 'limit must be a non-negative number or null');
  }
  return value;
}

function sendJson(ex: Exchange, status: number, body: unknown): void {
  ex.entry.status = status;
  ex.res.writeHead(status, { 'content-type': 'application/json' });
  ex.res.end(JSON.stringify(body));
}

function errorBody(status: number, message = http.STATUS_CODES[status] ?? 'Error'): unknown {
  return { error: { code: status, message } };
}

/** Resolves after `ms`, or as soon as the client has gone. */
async function pause(ms: number, closed: AbortSignal): Promise<void> {
  if (ms <= 0) return;
  await sleep(ms, undefined, { signal: closed }).catch(() => undefined);
}

function whenAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

function keyView(record: KeyRecord): Record<string, unknown> {
  return {
    hash: record.hash,
    name: record.name,
    label: record.label,
    disabled: record.disabled,
    limit: record.limit,
    limit_remaining: record.limit === null ? null : Math.max(0, record.limit - record.usage),
    limit_reset: null,
    include_byok_in_limit: false,
    usage: record.usage,
    usage_daily: record.usage,
    usage_weekly: record.usage,
    usage_monthly: record.usage,
    byok_usage: 0,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
    expires_at: null,
  };
}

/** A deterministic unit-ish vector of 8 numbers from a text's SHA-256. */
function vectorOf(text: string): number[] {
  const digest = createHash('sha256').update(text).digest();
  return Array.from({ length: 8 }, (_, i) => Math.round((digest[i] / 255) * 2e6 - 1e6) / 1e6);
}

/** OpenAI's `encoding_format: "base64"`: the little-endian float32 bytes. */
function base64Of(vector: number[]): string {
  return Buffer.from(new Float32Array(vector).buffer).toString('base64');
}

function usageView(settings: UsageSettings) {
  return {
    prompt_tokens: settings.prompt_tokens,
    completion_tokens: settings.completion_tokens,
    total_tokens: settings.prompt_tokens + settings.completion_tokens,
    cost: settings.cost,
    is_byok: false,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0 },
  };
}

function lastUserText(messages: unknown[]): string {
  const last = [...messages].reverse().find((m) => (m as { role?: unknown })?.role === 'user') as
    { content?: unknown } | undefined;
  const content = last?.content;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  // Multi-part content: keep the text parts.
  return content.map((part) => (typeof part?.text === 'string' ? part.text : '')).join('');
}

function splitText(text: string, parts: number): string[] {
  const size = Math.ceil(text.length / parts);
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  return pieces;
}

function completionBody(reply: ChatReply, usage: ReturnType<typeof usageView>): unknown {
  return {
    id: reply.id,
    provider: 'OpenAI',
    model: reply.model,
    object: 'chat.completion',
    created: reply.created,
    choices: [
      {
        logprobs: null,
        finish_reason: 'stop',
        native_finish_reason: 'stop',
        index: 0,
        message: { role: 'assistant', content: reply.content, refusal: null, reasoning: null },
      },
    ],
    system_fingerprint: 'fp_fake',
    usage,
  };
}

function chunkBody(reply: ChatReply, delta: { role: string; content: string }, finishReason: string | null) {
  return {
    id: reply.id,
    provider: 'OpenAI',
    model: reply.model,
    object: 'chat.completion.chunk',
    created: reply.created,
    choices: [{ index: 0, delta, finish_reason: finishReason, native_finish_reason: finishReason, logprobs: null }],
    system_fingerprint: 'fp_fake',
  };
}

function fakeModel(id: string, name: string, contextLength: number, prompt: string, completion: string) {
  return {
    id,
    canonical_slug: id,
    name,
    created: 1721260800,
    description: `${name} (fake)`,
    context_length: contextLength,
    architecture: {
      modality: 'text->text',
      input_modalities: ['text'],
      output_modalities: ['text'],
      tokenizer: 'Other',
    },
    pricing: { prompt, completion, request: '0', image: '0' },
    top_provider: { context_length: contextLength, max_completion_tokens: 16384, is_moderated: false },
    per_request_limits: null,
    supported_parameters: ['max_tokens', 'temperature', 'top_p', 'stop', 'stream'],
  };
}
