/**
 * One load measurement with autocannon's programmatic API: a warm-up run whose figures are thrown away, then a
 * fixed-duration run. Latencies are taken from autocannon's per-response event (microsecond resolution) rather
 * than its histogram, which rounds to whole milliseconds: the gateway's "at most 2 ms added at p50" needs better.
 */
import autocannon from 'autocannon';
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { assertLoopback } from './services';

export interface LoadSpec {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  durationSec: number;
  warmupSec: number;
  /** The serving process, whose CPU time per request is measured from /proc/<pid>/stat. */
  pid?: number;
}

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  /** Count per status code, e.g. {"200": 41000, "429": 12}. */
  statuses: Record<string, number>;
  /** Connection errors and timeouts. */
  errors: number;
  /**
   * CPU time (user + system) the serving process spent per response, in microseconds: what a request costs the
   * server, much less sensitive than requests/s to other processes competing for the machine's cores.
   */
  cpuUsPerRequest?: number;
}

export async function measure(spec: LoadSpec): Promise<LoadResult> {
  assertLoopback(spec.url);
  if (spec.warmupSec > 0) await run(spec, spec.warmupSec);
  return run(spec, spec.durationSec);
}

function run(spec: LoadSpec, durationSec: number): Promise<LoadResult> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  const started = performance.now();
  const cpuBefore = spec.pid ? cpuTicks(spec.pid) : null;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.url,
        method: spec.method ?? 'GET',
        headers: spec.headers,
        body: spec.body,
        connections: spec.connections,
        pipelining: 1,
        duration: durationSec,
        timeout: 10,
      },
      (err) => {
        if (err) return reject(err);
        const elapsedSec = (performance.now() - started) / 1000;
        const cpuAfter = spec.pid ? cpuTicks(spec.pid) : null;
        const cpuUsPerRequest =
          cpuBefore !== null && cpuAfter !== null && latencies.length
            ? ((cpuAfter - cpuBefore) * TICK_US) / latencies.length
            : undefined;
        const sorted = Float64Array.from(latencies).sort();
        resolve({
          requests: latencies.length,
          rps: latencies.length / elapsedSec,
          p50: percentile(sorted, 0.5),
          p99: percentile(sorted, 0.99),
          statuses,
          errors,
          cpuUsPerRequest,
        });
      },
    );
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTimeMs: number) => {
      latencies.push(responseTimeMs);
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
    });
    instance.on('reqError', () => errors++);
  });
}

/** Linux clock ticks are 1/100 s (getconf CLK_TCK) on every mainstream kernel build. */
const TICK_US = 10_000;

/** utime + stime of a process, in clock ticks; null when it is gone. */
export function cpuTicks(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces), from field 3 on: utime is 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

/** Nearest-rank percentile of sorted values; NaN when there are none. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}
