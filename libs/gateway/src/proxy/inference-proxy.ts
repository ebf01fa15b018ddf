import { Injectable, Logger, Optional } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, RequestContext } from '#libs/common';
import { MetricsService } from '#libs/metrics';
import { InferenceResponse, UpstreamHeaders } from '#libs/openrouter';
import { QuotaService, quotaRefusalError, QuotaTicket } from '#libs/quota';
import { relaySse, RelayResult } from '../chat/sse-relay';
import { GatewayErrors } from '../errors/openai-error';
import { UsageOutcome, UsageRecord } from '../usage/usage-record';
import { UsageRecorder } from '../usage/usage.recorder';
import { InferenceEndpoint } from './inference-endpoint';
import { readJsonAnswer } from './json-answer';
import { QuotaPolicyResolver } from './quota-policy.resolver';
import { SERVER_TIMING, serverTiming } from './server-timing';
import { estimatePromptTokens, estimateRequestTokens, estimateTextTokens } from './token-estimate';
import { TokenUsage } from './token-usage';
import { UpstreamCaller, UpstreamClock } from './upstream-caller';
import { transportFailure, upstreamErrorCode, upstreamStatusFailure } from './upstream-errors';

/** Nginx's "client closed request", kept in usage records of callers that went away. */
const CLIENT_CLOSED = 499;
const RENEWED_HEADER = 'x-openrouter-key-renewed';
const JSON_TYPE = 'application/json; charset=utf-8';
/** Longer values of a forwarded protocol header are not a version or beta list: not sent on. */
const MAX_FORWARDED_HEADER = 1024;

/** What is known about a request from its start, carried to its usage record; the upstream call's clock too. */
interface Exchange extends UpstreamClock {
  readonly ctx: RequestContext;
  readonly endpoint: InferenceEndpoint;
  readonly apiKeyId: string;
  readonly userId: string | null;
  readonly requestId: string;
  readonly body: Record<string, unknown>;
  readonly stream: boolean;
  readonly startedAt: Date;
  readonly started: number;
  renewed: boolean;
}

/**
 * The one proxy core of the inference routes (chat completions, completions, embeddings, responses,
 * Anthropic messages; what differs between them is their InferenceEndpoint): admits the request against the key's token quota, forwards the caller's body to
 * OpenRouter on the user's own key (renewed once on a 401), relays OpenRouter's answer (JSON bytes as
 * they came, or SSE as it arrives), then settles the quota and records usage in memory, written in
 * batches off the request path.
 */
@Injectable()
export class InferenceProxy {
  private readonly logger = new Logger(InferenceProxy.name);

  constructor(
    private readonly upstream: UpstreamCaller,
    private readonly quota: QuotaService,
    private readonly policies: QuotaPolicyResolver,
    private readonly usage: UsageRecorder,
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  async handle(
    endpoint: InferenceEndpoint,
    ctx: RequestContext,
    rawBody: unknown,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<void> {
    const apiKey = ctx.apiKey;
    if (!apiKey) return this.refuseEarly(GatewayErrors.noUser(), reply); // the routes only admit API keys
    const invalid = bodyError(rawBody, endpoint);
    if (invalid) return this.refuseEarly(invalid, reply);
    const body = rawBody as Record<string, unknown>;
    const ex: Exchange = {
      ctx,
      endpoint,
      apiKeyId: apiKey.id,
      userId: apiKey.userId ?? ctx.user?.id ?? null,
      requestId: String(request.id),
      body,
      stream: endpoint.streams && body.stream === true,
      startedAt: new Date(),
      started: performance.now(),
      renewed: false,
      upstreamSent: 0,
      upstreamAnswered: 0,
    };
    if (!ex.userId) return this.refuse(ex, reply, GatewayErrors.noUser(), 'failed');

    const policy = this.policies.policyOf(apiKey);
    // Only a key with a quota reserves: the estimate (which walks the prompt) is not worked out otherwise.
    const estimate = policy.tokenQuota === null ? 0 : estimateRequestTokens(body, endpoint.generates);
    const admission = await this.quota.admit(apiKey.id, policy, estimate, ex.startedAt, endpoint.path);
    if (!admission.granted) return this.refuse(ex, reply, quotaRefusalError(admission), 'quota_exceeded');
    const ticket = admission.ticket;

    // The caller hanging up aborts the upstream request (and a stream being relayed).
    const abort = new AbortController();
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) abort.abort();
    });

    let response: InferenceResponse;
    try {
      const result = await this.upstream.call({
        path: endpoint.path,
        userId: ex.userId,
        actor: { type: 'api_key', id: apiKey.id, userId: ex.userId },
        payload: payloadOf(request, body),
        headers: forwardedHeaders(request, endpoint),
        stream: ex.stream,
        signal: abort.signal,
        clock: ex,
      });
      response = result.response;
      ex.renewed = result.renewed;
    } catch (err) {
      this.quota.release(ticket);
      const failure = transportFailure(err);
      if (abort.signal.aborted) {
        // The caller is gone: there is no one to answer.
        this.record(ex, { status: CLIENT_CLOSED, outcome: 'client_aborted', errorCode: 'client_closed_request' });
        return;
      }
      const { status, code } = statusOf(failure);
      this.record(ex, { status, outcome: 'failed', errorCode: code });
      this.timeAnswer(reply, ex);
      throw failure;
    }

    if (ex.renewed) void reply.header(RENEWED_HEADER, 'true');
    if (response.stream) return this.relay(ex, ticket, response.status, response.stream, abort.signal, reply);
    return this.answer(ex, ticket, response.status, response.headers, response.bytes, reply);
  }

  /** A JSON answer: a 2xx relayed byte for byte, other 4xx passed through, OpenRouter's own failures mapped. */
  private answer(
    ex: Exchange,
    ticket: QuotaTicket,
    status: number,
    headers: UpstreamHeaders,
    bytes: Buffer,
    reply: FastifyReply,
  ): void {
    if (status >= 200 && status < 300) {
      const facts = readJsonAnswer(bytes, ex.endpoint.dialect.usageFields);
      if (!facts.valid) {
        this.quota.release(ticket);
        const failure = GatewayErrors.upstreamBadResponse('a body that is not JSON');
        this.record(ex, { status: failure.status, outcome: 'failed', errorCode: failure.code });
        this.timeAnswer(reply, ex);
        throw failure;
      }
      const charged = facts.usage ?? this.estimateFromText(ex, ex.endpoint.dialect.contentChars(facts.parsed));
      this.quota.settle(ticket, { tokens: charged.totalTokens, costUsd: charged.cost });
      const error = (facts.parsed as { error?: unknown } | undefined)?.error;
      this.record(ex, {
        status,
        outcome: error ? 'upstream_error' : 'completed',
        errorCode: error ? upstreamErrorCode(status, facts.parsed) : null,
        usage: charged,
        estimated: !facts.usage,
        model: facts.model,
      });
      this.timeAnswer(reply, ex);
      void reply.status(status).header('content-type', JSON_TYPE).send(bytes); // after settle and record: journaled first
      return;
    }

    this.quota.release(ticket);
    // Answered in the route's own error shape by the exception filter, like every refusal of the gateway's.
    const failure = upstreamStatusFailure(status, parseOrNull(bytes), headers['retry-after']);
    this.record(ex, { status: failure.status, outcome: 'upstream_error', errorCode: failure.code });
    this.timeAnswer(reply, ex);
    throw failure;
  }

  /** A stream: relayed as it arrives; settled and recorded when it is over. */
  private relay(
    ex: Exchange,
    ticket: QuotaTicket,
    status: number,
    upstream: NodeJS.ReadableStream,
    callerGone: AbortSignal,
    reply: FastifyReply,
  ): void {
    const relay = relaySse(upstream, callerGone, ex.endpoint.dialect);
    // Headers go before the body: a stream's split is the one known at its headers.
    this.timeAnswer(reply, ex);
    void relay.done
      .then((result) => this.streamEnded(ex, ticket, status, result))
      .catch((err: unknown) => this.logger.error({ err, request_id: ex.requestId }, 'Settling a stream failed'));
    void reply
      .status(status)
      .header('content-type', 'text/event-stream')
      .header('cache-control', 'no-cache')
      .header('x-accel-buffering', 'no')
      .send(relay.body);
  }

  private streamEnded(ex: Exchange, ticket: QuotaTicket, status: number, result: RelayResult): void {
    const charged = result.usage ?? (result.contentChars > 0 ? this.estimateFromText(ex, result.contentChars) : null);
    this.quota.settle(ticket, { tokens: charged?.totalTokens ?? 0, costUsd: charged?.cost ?? null });
    const outcome: UsageOutcome =
      result.outcome === 'client_aborted'
        ? 'client_aborted'
        : result.outcome === 'upstream_failed' || result.error
          ? 'stream_error'
          : 'completed';
    const errorCode =
      result.outcome === 'client_aborted'
        ? 'client_closed_request'
        : result.outcome === 'upstream_failed'
          ? 'upstream_stream_interrupted'
          : (result.error?.code ?? null);
    this.record(ex, {
      status: result.outcome === 'client_aborted' ? CLIENT_CLOSED : status,
      outcome,
      errorCode,
      usage: charged,
      estimated: !result.usage && charged !== null,
      model: result.model,
    });
  }

  /** Refused before reaching OpenRouter: recorded, then answered by the exception filter. */
  private refuse(ex: Exchange, reply: FastifyReply, error: AppError, outcome: UsageOutcome): never {
    this.record(ex, { status: error.status, outcome, errorCode: error.code });
    this.timeAnswer(reply, ex);
    throw error;
  }

  /** Refused before there is anything to record (a malformed body). */
  private refuseEarly(error: AppError, reply: FastifyReply): never {
    this.timeAnswer(reply, null);
    throw error;
  }

  /**
   * The answer's `Server-Timing`: the gateway's part (its time from the request's arrival to this answer, less
   * OpenRouter's) and OpenRouter's; the gateway's part is observed as its overhead where OpenRouter had a part.
   * Called once per answer, right before it is sent (or thrown to the exception filter, which keeps the header).
   */
  private timeAnswer(reply: FastifyReply, ex: Exchange | null): void {
    const total = reply.elapsedTime;
    if (ex === null || ex.upstreamSent === 0) {
      void reply.header(SERVER_TIMING, serverTiming(total, null));
      return;
    }
    const upstream = ex.upstreamAnswered - ex.upstreamSent;
    const gateway = total - upstream;
    void reply.header(SERVER_TIMING, serverTiming(gateway, upstream));
    this.metrics?.gatewayOverhead(ex.endpoint.path, gateway / 1000);
  }

  private estimateFromText(ex: Exchange, chars: number): TokenUsage {
    const prompt = estimatePromptTokens(ex.body);
    const completion = estimateTextTokens(chars);
    return { promptTokens: prompt, completionTokens: completion, totalTokens: prompt + completion, cost: null };
  }

  private record(
    ex: Exchange,
    r: {
      status: number;
      outcome: UsageOutcome;
      errorCode: string | null;
      usage?: TokenUsage | null;
      estimated?: boolean;
      model?: string | null;
    },
  ): void {
    const usage = r.usage ?? null;
    const record: UsageRecord = {
      tenantId: ex.ctx.tenant.id,
      userId: ex.userId,
      apiKeyId: ex.apiKeyId,
      requestId: ex.requestId,
      route: ex.endpoint.route,
      model: r.model ?? (typeof ex.body.model === 'string' ? ex.body.model.slice(0, 200) : null),
      promptTokens: usage?.promptTokens ?? 0,
      completionTokens: usage?.completionTokens ?? 0,
      totalTokens: usage?.totalTokens ?? 0,
      cost: usage?.cost ?? null,
      statusCode: r.status,
      outcome: r.outcome,
      errorCode: r.errorCode,
      stream: ex.stream,
      keyRenewed: ex.renewed,
      usageEstimated: r.estimated ?? false,
      latencyMs: Math.max(0, Math.round(performance.now() - ex.started)),
      createdAt: ex.startedAt,
    };
    this.usage.record(record);
  }
}

/** Why the body cannot be forwarded, or null when it can (a JSON object with well-typed `stream` and `model`). */
function bodyError(body: unknown, endpoint: InferenceEndpoint): AppError | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return GatewayErrors.invalidBody(`The request body must be a JSON object (${endpoint.what})`);
  }
  const b = body as Record<string, unknown>;
  if (b.stream !== undefined && typeof b.stream !== 'boolean')
    return GatewayErrors.invalidBody('`stream` must be a boolean');
  if (b.stream === true && !endpoint.streams)
    return GatewayErrors.invalidBody(`\`stream\` is not supported on ${endpoint.path}`);
  if (b.model !== undefined && typeof b.model !== 'string')
    return GatewayErrors.invalidBody('`model` must be a string');
  return null;
}

/** The endpoint's protocol headers (e.g. `anthropic-version`) as the caller sent them; bounded, never credentials. */
function forwardedHeaders(request: FastifyRequest, endpoint: InferenceEndpoint): Record<string, string> | undefined {
  let headers: Record<string, string> | undefined;
  for (const name of endpoint.forwardHeaders) {
    const value = request.headers[name];
    const text = Array.isArray(value) ? value.join(',') : value;
    if (typeof text === 'string' && text.length > 0 && text.length <= MAX_FORWARDED_HEADER)
      (headers ??= {})[name] = text;
  }
  return headers;
}

/**
 * The caller's own bytes when the server kept them (nothing in the body needs changing), so that the
 * body is not serialised again; otherwise the parsed body, serialised.
 */
function payloadOf(request: FastifyRequest, body: Record<string, unknown>): string | Buffer {
  const raw = (request as { rawBody?: unknown }).rawBody;
  return Buffer.isBuffer(raw) || typeof raw === 'string' ? raw : JSON.stringify(body);
}

function parseOrNull(bytes: Buffer): unknown {
  if (bytes.length === 0) return null;
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    // A non-JSON error body (an HTML page from a proxy, say): the gateway answers its own error.
    return null;
  }
}

function statusOf(err: unknown): { status: number; code: string } {
  return err instanceof AppError ? { status: err.status, code: err.code } : { status: 500, code: 'internal_error' };
}
