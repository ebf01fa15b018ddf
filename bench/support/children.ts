/** Helper processes of the benchmark and soak run (bare server, fake upstream), tied to this process's life. */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';

export interface Helper<T> {
  readonly info: T;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Runs a compiled script of dist/bench/support and waits for the JSON line it prints once ready. */
export async function startHelper<T>(
  script: string,
  env: Record<string, string> = {},
  timeoutMs = 15_000,
): Promise<Helper<T>> {
  const child: ChildProcess = spawn(process.execPath, [path.join(__dirname, script)], {
    env: { ...process.env, ...env },
    // stdin is a pipe the child watches: when this process dies, it closes and the child exits.
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const info = await new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start within ${timeoutMs} ms`)), timeoutMs);
    const lines = readline.createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line) as T);
      } catch {
        reject(new Error(`${script} printed ${line}`));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}`));
    });
  });
  return {
    info,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await closed;
      clearTimeout(timer);
    },
  };
}

export interface FakeUpstreamInfo {
  baseUrl: string;
  provisioningKey: string;
}

export function startFakeUpstream(env: Record<string, string> = {}): Promise<Helper<FakeUpstreamInfo>> {
  return startHelper<FakeUpstreamInfo>('fake-upstream.js', env);
}

export function startBareServer(): Promise<Helper<{ port: number }>> {
  return startHelper<{ port: number }>('bare-server.js');
}

/** node:http + an undici Pool in front of `upstream` (an origin), relaying bytes: see minimal-proxy.ts. */
export function startMinimalProxy(upstream: string): Promise<Helper<{ port: number }>> {
  return startHelper<{ port: number }>('minimal-proxy.js', { UPSTREAM: upstream });
}
