/** Reading server-sent events from a fetch Response, as an OpenAI SDK would: comments skipped, `data:` joined. */

/** Yields the data of each event as it arrives (e.g. a JSON chunk or `[DONE]`). */
export async function* sseData(res: Response): AsyncGenerator<string> {
  if (!res.body) return;
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const bytes of res.body) {
    buffer += decoder.decode(bytes, { stream: true }).replace(/\r\n/g, '\n');
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const data = eventData(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      if (data !== null) yield data;
    }
  }
  const rest = eventData(buffer);
  if (rest !== null) yield rest;
}

/** Reads the whole stream; returns the parsed JSON chunks and whether `[DONE]` ended it. */
export async function collectSse(res: Response): Promise<{ chunks: any[]; done: boolean }> {
  const chunks: any[] = [];
  let done = false;
  for await (const data of sseData(res)) {
    if (data === '[DONE]') done = true;
    else chunks.push(JSON.parse(data));
  }
  return { chunks, done };
}

/** The joined `data:` lines of one event, or null for a comment-only or empty event. */
function eventData(event: string): string | null {
  const lines = event
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(5).replace(/^ /, ''));
  return lines.length ? lines.join('\n') : null;
}
