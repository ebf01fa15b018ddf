/** A usage record as the gateway records a completed chat request, for tests that fill the ledger directly. */
import type { UsageRecord } from '#libs/gateway';

export function usageRecord(tenantId: string, createdAt: Date, fields: Partial<UsageRecord> = {}): UsageRecord {
  return {
    tenantId,
    userId: null,
    apiKeyId: null,
    requestId: null,
    route: 'v1/chat/completions',
    model: 'openai/gpt-4o-mini',
    promptTokens: 10,
    completionTokens: 5,
    totalTokens: 15,
    cost: 0.0001,
    statusCode: 200,
    outcome: 'completed',
    errorCode: null,
    stream: false,
    keyRenewed: false,
    usageEstimated: false,
    latencyMs: 1,
    createdAt,
    ...fields,
  };
}
