/** The OpenAI-compatible routes: OpenAI's error shape, larger bodies, deeper JSON (chat messages nest). */
const OPENAI_PREFIXES = [
  '/api/v1/chat/completions',
  '/api/v1/completions',
  '/api/v1/embeddings',
  '/api/v1/responses',
  '/api/v1/models',
];
/** Routes that take inference input: a conversation may be large. */
const LARGE_BODY_PATHS = new Set([
  '/api/v1/chat/completions',
  '/api/v1/completions',
  '/api/v1/embeddings',
  '/api/v1/responses',
  '/api/v1/messages',
]);

export const MiB = 1024 * 1024;
export const DEFAULT_BODY_LIMIT = 1 * MiB;
export const INFERENCE_BODY_LIMIT = 10 * MiB;
export const DEFAULT_JSON_DEPTH = 32;
export const INFERENCE_JSON_DEPTH = 64;

/** `/api/v1/models/x?y` → `/api/v1/models/x`. */
export function pathOnly(url: string): string {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

export function isOpenAiPath(url: string): boolean {
  const path = pathOnly(url);
  return OPENAI_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`));
}

/** Body limit and JSON depth of a route, by its registered URL. */
export function bodyLimitsFor(routeUrl: string): { bodyLimit: number; jsonDepth: number } {
  return LARGE_BODY_PATHS.has(pathOnly(routeUrl))
    ? { bodyLimit: INFERENCE_BODY_LIMIT, jsonDepth: INFERENCE_JSON_DEPTH }
    : { bodyLimit: DEFAULT_BODY_LIMIT, jsonDepth: DEFAULT_JSON_DEPTH };
}
