/**
 * The logs of servers built inside the test process. The app writes its log lines straight to file descriptor 1
 * (pino's sonic-boom calls fs.write / fs.writeSync with fd 1, not process.stdout), so the lines are taken there:
 * each running in-process app receives every line written while it runs, as a child's stdout would give it.
 *
 * node's test runner talks to its files over a pipe through process.stdout, which never goes through fs.write,
 * so nothing of the runner's is taken. Should fd 1 be a regular file (process.stdout then does write with
 * fs.writeSync), lines are copied to their sinks and still written out.
 */
// The module object itself (not an import namespace copy): its functions are replaced for every caller.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import fs = require('node:fs');

export type LogSink = (chunk: string) => void;

const sinks = new Set<LogSink>();
let installed = false;

/** Sends fd-1 writes to `sink` until the returned function is called. */
export function captureStdout(sink: LogSink): () => void {
  install();
  sinks.add(sink);
  return () => sinks.delete(sink);
}

function install(): void {
  if (installed) return;
  installed = true;
  const stdoutIsFile = (() => {
    try {
      return fs.fstatSync(1).isFile();
    } catch {
      return false;
    }
  })();
  const originalWrite = fs.write;
  const originalWriteSync = fs.writeSync;
  const take = (fd: unknown, data: unknown, encoding: unknown): number | null => {
    if (fd !== 1 || sinks.size === 0) return null;
    const text = typeof data === 'string' ? data : Buffer.from(data as Uint8Array).toString('utf8');
    for (const sink of sinks) sink(text);
    return typeof data === 'string'
      ? Buffer.byteLength(data, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
      : (data as Uint8Array).byteLength;
  };

  (fs as { write: unknown }).write = function write(fd: unknown, data: unknown, ...rest: unknown[]) {
    const bytes = take(fd, data, rest[0]);
    if (bytes === null || stdoutIsFile) return (originalWrite as (...args: unknown[]) => void)(fd, data, ...rest);
    const callback = rest.at(-1);
    if (typeof callback === 'function') process.nextTick(callback, null, bytes, data);
  };
  (fs as { writeSync: unknown }).writeSync = function writeSync(fd: unknown, data: unknown, ...rest: unknown[]) {
    const bytes = take(fd, data, rest[0]);
    if (bytes === null || stdoutIsFile) return (originalWriteSync as (...args: unknown[]) => number)(fd, data, ...rest);
    return bytes;
  };
}
