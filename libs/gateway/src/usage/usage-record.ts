/** How a gateway request ended, as kept in `usage_records.outcome`. */
export type UsageOutcome =
  | 'completed' // upstream answered 2xx and the whole answer reached the caller
  | 'upstream_error' // upstream answered an error status (passed through or mapped)
  | 'stream_error' // a stream failed half-way (an error event, or the upstream connection cut)
  | 'client_aborted' // the caller went away before the answer was complete
  | 'quota_exceeded' // refused before reaching OpenRouter
  | 'failed'; // no answer from upstream (timeout, connection error) or a local failure

/** One gateway request, as written to `usage_records`. */
export interface UsageRecord {
  tenantId: string;
  userId: string | null;
  apiKeyId: string | null;
  requestId: string | null;
  /** The gateway route it came through, e.g. `v1/messages`; null in rows written before routes were kept. */
  route?: string | null;
  model: string | null;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  /** USD credits as OpenRouter reported them; null when it did not. */
  cost: number | null;
  statusCode: number;
  outcome: UsageOutcome;
  errorCode: string | null;
  stream: boolean;
  keyRenewed: boolean;
  /** True when the tokens are our estimate (no usage came back, e.g. the caller disconnected). */
  usageEstimated: boolean;
  latencyMs: number;
  createdAt: Date;
}
