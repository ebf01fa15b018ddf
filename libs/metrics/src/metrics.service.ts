import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { AppConfig } from '#libs/config';

export type CacheName = 'user_snapshot' | 'verified_api_key' | 'key_spend';
export type RefusalReason = 'rate_limited' | 'quota_exceeded' | 'budget_exceeded' | 'tenant_budget_exceeded';
export type KeyEvent = 'provisioned' | 'refreshed' | 'renewed' | 'provisioning_failed';

/**
 * Every Prometheus metric of one application instance, on a registry of its own (never prom-client's global
 * one), so that several instances in one process (tests) neither collide nor mix their numbers.
 * Callers use the typed methods below; label values are bounded sets, never raw URLs or ids.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  private readonly httpDuration = new Histogram({
    name: 'umb_http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  private readonly upstreamDuration = new Histogram({
    name: 'umb_upstream_request_duration_seconds',
    help: 'Calls to OpenRouter by operation and outcome (HTTP status or error code)',
    labelNames: ['operation', 'outcome'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
    registers: [this.registry],
  });

  /** The gateway's own part of an answer that OpenRouter had a part in (`umb_upstream_request_duration_seconds` has OpenRouter's). */
  private readonly gatewayOverheadDuration = new Histogram({
    name: 'umb_gateway_overhead_seconds',
    help: "Time the gateway added to an inference answer (request arrival to answer, less OpenRouter's part) by route",
    labelNames: ['route'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  private readonly upstreamErrors = new Counter({
    name: 'umb_upstream_errors_total',
    help: 'Failed calls to OpenRouter (transport errors and error statuses) by operation and outcome',
    labelNames: ['operation', 'outcome'] as const,
    registers: [this.registry],
  });

  private readonly keyEvents = new Counter({
    name: 'umb_openrouter_key_events_total',
    help: 'OpenRouter key provisioning, refreshes, renewals and provisioning failures',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });

  private readonly refusals = new Counter({
    name: 'umb_refusals_total',
    help: 'Requests refused by a rate limit or a token quota',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  private readonly cacheLookups = new Counter({
    name: 'umb_cache_lookups_total',
    help: 'Cache lookups by cache and result (hit ratio = hit / (hit + miss))',
    labelNames: ['cache', 'result'] as const,
    registers: [this.registry],
  });

  private readonly spendUsd = new Counter({
    name: 'umb_spend_usd_total',
    help: 'USD spent through the gateway (OpenRouter usage.cost) by route',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });

  /** Without METRICS_TOKEN nobody can scrape: nothing is collected, and the recorders below return at once. */
  private readonly enabled: boolean;

  constructor(config: AppConfig) {
    this.enabled = Boolean(config.metricsToken);
    // Process metrics, event-loop lag among them (nodejs_eventloop_lag_*).
    if (this.enabled) collectDefaultMetrics({ register: this.registry });
  }

  httpRequest(method: string, route: string, status: number, seconds: number): void {
    if (!this.enabled) return;
    this.httpDuration.observe({ method, route, status: String(status) }, seconds);
  }

  /** `outcome` is the HTTP status as a string, or an error code for transport failures. */
  upstreamCall(operation: string, outcome: string | number, seconds: number, failed: boolean): void {
    if (!this.enabled) return;
    const labels = { operation: upstreamOperation(operation), outcome: String(outcome) };
    this.upstreamDuration.observe(labels, seconds);
    if (failed) this.upstreamErrors.inc(labels);
  }

  /** `route` is the gateway's upstream path (`/chat/completions`…), as for spend. */
  gatewayOverhead(route: string, seconds: number): void {
    if (!this.enabled) return;
    this.gatewayOverheadDuration.observe({ route }, seconds > 0 ? seconds : 0);
  }

  keyEvent(event: KeyEvent): void {
    if (!this.enabled) return;
    this.keyEvents.inc({ event });
  }

  refusal(reason: RefusalReason): void {
    if (!this.enabled) return;
    this.refusals.inc({ reason });
  }

  /** `route` is the gateway's upstream path (`/chat/completions`…): a bounded set, never a tenant or key. */
  spend(route: string, usd: number): void {
    if (!this.enabled || !(usd > 0)) return;
    this.spendUsd.inc({ route }, usd);
  }

  cacheLookup(cache: CacheName, hit: boolean): void {
    if (!this.enabled) return;
    this.cacheLookups.inc({ cache, result: hit ? 'hit' : 'miss' });
  }

  contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/** "GET /keys/abc?offset=100" → "GET /keys/{hash}": one series per endpoint, not per key. */
export function upstreamOperation(operation: string): string {
  return operation
    .replace(/\?.*$/, '')
    .replace(/\/keys\/[^/]+/, '/keys/{hash}')
    .replace(/\/models\/.+/, '/models/{model}');
}
