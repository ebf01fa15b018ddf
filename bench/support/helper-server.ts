import type * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Runs one of the benchmark's helper servers as startHelper (children.ts) expects: listens on a free loopback
 * port, prints `{"port": N}` once listening, and exits when its parent closes stdin (so a crashed benchmark leaves
 * nothing behind) or on SIGTERM.
 */
export function serveAsHelper(server: http.Server): void {
  server.keepAliveTimeout = 72_000;
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(JSON.stringify({ port: (server.address() as AddressInfo).port }) + '\n');
  });
  const exit = () => server.close(() => process.exit(0)).closeAllConnections();
  process.stdin.on('end', exit).resume();
  process.once('SIGTERM', exit);
}
