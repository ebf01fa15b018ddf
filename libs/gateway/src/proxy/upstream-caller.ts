import { Injectable } from '@nestjs/common';
import { AuditActor } from '#libs/audit';
import { AppConfig } from '#libs/config';
import { InferencePath, InferenceResponse, OpenRouterClient } from '#libs/openrouter';
import { UserKeyResolver } from './user-key.resolver';

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
 * answers here. Transport failures throw the client's OpenRouterError.
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
    const first = await this.client.inference(call.path, key.key, call.payload, opts);
    if (first.status !== 401) return { response: first, renewed: false };
    if (call.signal.aborted) return { response: first, renewed: false };

    const renewed = await this.keys.renew(key, call.actor);
    if (renewed.key === key.key) return { response: first, renewed: false };
    const second = await this.client.inference(call.path, renewed.key, call.payload, opts);
    return { response: second, renewed: true };
  }
}
