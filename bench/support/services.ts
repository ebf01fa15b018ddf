/** Finding the PostgreSQL and Redis servers the benchmark and soak run can use, and the run's options. */
import * as net from 'node:net';
import { Client } from 'pg';

export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export async function postgresAnswers(url: string, timeoutMs = 2000): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Sends PING over a raw socket: no client library needed for a yes/no. */
export function redisAnswers(url: string, timeoutMs = 2000): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port || 6379) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

/** `--name=value` flags win over environment variables. */
export function option(args: string[], flag: string, envName: string, fallback: string): string {
  const prefix = `--${flag}=`;
  const fromFlag = args.find((a) => a.startsWith(prefix));
  if (fromFlag) return fromFlag.slice(prefix.length);
  return process.env[envName] ?? fallback;
}

/** Only 127.0.0.0/8, ::1 and localhost: load is never sent anywhere else. */
export function assertLoopback(url: string): void {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (!(host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host))) {
    throw new Error(`Refusing to send load to ${host}: only loopback addresses are allowed`);
  }
}
