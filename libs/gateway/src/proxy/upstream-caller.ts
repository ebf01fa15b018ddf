import { Injectable } from '@nestjs/common';
import { AuditActor } from '#libs/audit';
import { AppConfig } from '#libs/config';
import { InferencePath, InferenceResponse, OpenRouterClient } from '#libs/openrouter';
import { UserKeyResolver } from './user-key.resolver';

/** Where the call notes when OpenRouter's part began and ended (`performance.now()`; 0 until it began). */
export interface UpstreamClock {
  upstreamSent: number;
  upstreamAnswered: number;
}

export interface UpstreamCall {
  path: InferencePath;
  userId: string;
  /** Who the audit trail names when this call renews the key: the tenant API key. */
  actor: AuditActor;
  /** The request body as sent on (the caller's bytes when nothing had to change). */
  payload: string | Buffer;
  /** Protocol headers sent on with the body (e.g. `anthropic-version`). */
  headers?: Record<string, string>;
  stream: boolean;
  signal: AbortSignal;
  /** Stamped by the call (a field of the caller's own object: nothing allocated for it). */
  clock: UpstreamClock;
}

export interface UpstreamResult {
  response: InferenceResponse;
  /** The first attempt got a 401 and the request was retried with a renewed key. */
  renewed: boolean;
}

/**
 * Calls an OpenRouter inference endpoint with the user's key, renewing the key once on a 401 and
 * retrying once with the new one. Nothing has been sent to the caller at that point (the status comes
 * before any byte is relayed). A second 401 is returned as it is: never a loop. 402 and 403 are plain
 * answers here. Transport failures throw the client's OpenRouterError. The clock spans OpenRouter's part: from
 * sending the first request to the last answer (a JSON body read whole, a stream's headers), a renewal included.
 */
@Injectable()
export class UpstreamCaller {
  private readonly timeoutMs: number;

  constructor(
    private readonly client: OpenRouterClient,
    private readonly keys: UserKeyResolver,
    config: AppConfig,
  ) {
    this.timeoutMs = config.openRouter.chatTimeoutMs;
  }

  async call(call: UpstreamCall): Promise<UpstreamResult> {
    const key = await this.keys.resolve(call.userId);
    const opts = { stream: call.stream, signal: call.signal, timeoutMs: this.timeoutMs, headers: call.headers };
    call.clock.upstreamSent = performance.now();
    try {
      const first = await this.client.inference(call.path, key.key, call.payload, opts);
      if (first.status !== 401) return { response: first, renewed: false };
      if (call.signal.aborted) return { response: first, renewed: false };

      const renewed = await this.keys.renew(key, call.actor);
      if (renewed.key === key.key) return { response: first, renewed: false };
      const second = await this.client.inference(call.path, renewed.key, call.payload, opts);
      return { response: second, renewed: true };
    } finally {
      call.clock.upstreamAnswered = performance.now();
    }
  }
}
