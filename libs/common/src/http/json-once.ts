/** Objects marked as sent many times unchanged (null until first serialised), and their JSON. */
const marked = new WeakMap<object, string | null>();

/**
 * Marks a response that is cached and sent many times unchanged: it is serialised on its first send
 * and its JSON reused after. The caller gives up mutating it; a changed response is a new object.
 */
export function serializeOnce<T extends object>(response: T): T {
  if (!marked.has(response)) marked.set(response, null);
  return response;
}

/** The app's reply serializer: a marked response's remembered JSON, anything else JSON.stringify'd. */
export function replySerializer(payload: unknown): string {
  if (typeof payload !== 'object' || payload === null) return JSON.stringify(payload);
  const remembered = marked.get(payload);
  if (remembered) return remembered;
  const json = JSON.stringify(payload);
  if (remembered === null) marked.set(payload, json);
  return json;
}
