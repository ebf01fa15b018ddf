/** The standard response header (W3C Server Timing) that splits an answer's time between the gateway and OpenRouter. */
export const SERVER_TIMING = 'server-timing';

/**
 * `gateway;dur=0.412, upstream;dur=12.305`: milliseconds with up to three decimals; `gateway` alone when no
 * upstream call was made (`upstreamMs` null).
 */
export function serverTiming(gatewayMs: number, upstreamMs: number | null): string {
  const gateway = `gateway;dur=${millis(gatewayMs)}`;
  return upstreamMs === null ? gateway : `${gateway}, upstream;dur=${millis(upstreamMs)}`;
}

function millis(ms: number): number {
  return ms > 0 ? Math.round(ms * 1000) / 1000 : 0;
}
