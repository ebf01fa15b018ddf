export type OpenRouterErrorCode =
  | 'openrouter_not_configured'
  | 'openrouter_timeout'
  | 'openrouter_unavailable'
  | 'openrouter_rejected'
  | 'openrouter_bad_response';

/**
 * The only error this client throws. Its message is built here from method, path and status only:
 * never from axios errors, which embed the request config and its Authorization header.
 */
export class OpenRouterError extends Error {
  override readonly name = 'OpenRouterError';
  /**
   * True when the failure is transient (timeout, connection error, 5xx, 429) and a later attempt may
   * succeed. The client itself only retries idempotent calls; for `createKey` a transient failure may
   * still have created a key upstream.
   */
  readonly retryable: boolean;
  /** HTTP status of OpenRouter's answer, when there was one. */
  readonly upstreamStatus?: number;
  /** Delay asked for by an upstream Retry-After header, when there was one. */
  readonly retryAfterMs?: number;

  constructor(
    readonly code: OpenRouterErrorCode,
    message: string,
    opts: { upstreamStatus?: number; retryable?: boolean; retryAfterMs?: number } = {},
  ) {
    super(message);
    this.upstreamStatus = opts.upstreamStatus;
    this.retryable = opts.retryable ?? false;
    this.retryAfterMs = opts.retryAfterMs;
  }

  /** Keeps serialisation (JSON.stringify, loggers) to these safe fields. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      upstreamStatus: this.upstreamStatus,
      retryable: this.retryable,
    };
  }
}

/** Identifies the call in messages and logs: e.g. `DELETE /keys/3f2a…`. Holds no secret. */
export interface CallDescription {
  method: string;
  path: string;
}

const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ECONNABORTED', 'ESOCKETTIMEDOUT']);

/** Maps a transport failure (no HTTP answer) to an OpenRouterError. Reads only `code` from the cause. */
export function transportError(cause: unknown, call: CallDescription, timeoutMs: number): OpenRouterError {
  const code = errorCode(cause);
  const what = `OpenRouter ${call.method} ${call.path}`;
  if (code && TIMEOUT_CODES.has(code)) {
    return new OpenRouterError('openrouter_timeout', `${what} timed out after ${timeoutMs}ms`, { retryable: true });
  }
  if (code === 'ERR_CANCELED') {
    // Our caller aborted (e.g. its client went away): nothing to retry.
    return new OpenRouterError('openrouter_unavailable', `${what} was aborted`, { retryable: false });
  }
  return new OpenRouterError('openrouter_unavailable', `${what} failed: ${code ?? 'network error'}`, {
    retryable: true,
  });
}

/** Maps a non-2xx HTTP answer to an OpenRouterError. */
export function statusError(status: number, call: CallDescription, retryAfterMs?: number): OpenRouterError {
  const what = `OpenRouter ${call.method} ${call.path} answered HTTP ${status}`;
  // 408 is OpenRouter's own "request timed out": as transient as a 5xx.
  if (status === 408 || status === 429 || status >= 500) {
    return new OpenRouterError('openrouter_unavailable', what, {
      upstreamStatus: status,
      retryable: true,
      retryAfterMs,
    });
  }
  if (status >= 400) {
    return new OpenRouterError('openrouter_rejected', what, { upstreamStatus: status });
  }
  // 1xx/3xx: nothing we asked for (redirects are not followed, so that the key is never forwarded).
  return new OpenRouterError('openrouter_bad_response', what, { upstreamStatus: status });
}

export function badResponse(call: CallDescription, status: number, detail: string): OpenRouterError {
  return new OpenRouterError(
    'openrouter_bad_response',
    `OpenRouter ${call.method} ${call.path} answered HTTP ${status} with ${detail}`,
    { upstreamStatus: status },
  );
}

export function notConfigured(): OpenRouterError {
  return new OpenRouterError(
    'openrouter_not_configured',
    'OpenRouter provisioning key is not configured (OPENROUTER_PROVISIONING_API_KEY)',
  );
}

/** Codes too generic to explain a failure; a more specific one may sit in `cause` or `errors`. */
const GENERIC_CODES = new Set(['ERR_BAD_RESPONSE', 'ERR_NETWORK']);

/** Node/axios error code, looking into an AggregateError (happy-eyeballs connect) or a `cause`. */
function errorCode(err: unknown, depth = 0): string | undefined {
  if (typeof err !== 'object' || err === null || depth > 3) return undefined;
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown };
  const own = typeof e.code === 'string' ? e.code : undefined;
  if (own && !GENERIC_CODES.has(own)) return own;
  const inner = Array.isArray(e.errors) ? e.errors[0] : e.cause;
  return errorCode(inner, depth + 1) ?? own;
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
