import { Injectable } from '@nestjs/common';
import { AuditActor } from '#libs/audit';
import { AppConfig } from '#libs/config';
import { OpenRouterClient, UpstreamResponse } from '#libs/openrouter';
import { UserKeyResolver } from './user-key.resolver';

export interface UpstreamCall {
  userId: string;
  /** Who the audit trail names when this call renews the key: the tenant API key. */
  actor: AuditActor;
  body: unknown;
  stream: boolean;
  signal: AbortSignal;
}

export interface UpstreamResult {
  response: UpstreamResponse;
  /** The first attempt got a 401 and the request was retried with a renewed key. */
  renewed: boolean;
}

/**
 * Calls OpenRouter's chat completions with the user's key, renewing the key once on a 401 and retrying
 * once with the new one. Nothing has been sent to the caller at that point (the status comes before any
 * byte is relayed). A second 401 is returned as it is: never a loop. 402 and 403 are plain answers here.
 * Transport failures throw the client's OpenRouterError.
 */
@Injectable()
export class UpstreamCaller {
  constructor(
    private readonly client: OpenRouterClient,
    private readonly keys: UserKeyResolver,
    private readonly config: AppConfig,
  ) {}

  async complete(call: UpstreamCall): Promise<UpstreamResult> {
    const key = await this.keys.resolve(call.userId);
    const first = await this.client.chatCompletion(key.key, call.body, {
      stream: call.stream,
      signal: call.signal,
      timeoutMs: this.config.openRouter.chatTimeoutMs,
    });
    if (first.status !== 401) return { response: first, renewed: false };
    if (call.signal.aborted) return { response: first, renewed: false };

    const renewed = await this.keys.renew(key, call.actor);
    if (renewed.key === key.key) return { response: first, renewed: false };
    const second = await this.client.chatCompletion(renewed.key, call.body, {
      stream: call.stream,
      signal: call.signal,
      timeoutMs: this.config.openRouter.chatTimeoutMs,
    });
    return { response: second, renewed: true };
  }
}
