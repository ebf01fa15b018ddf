/**
 * Text PostgreSQL cannot store (NUL, error 22021) or that is not valid Unicode (a lone UTF-16
 * surrogate, which breaks encoders and validators further down): refused at the edge as bad input.
 */
export function isUnsafeText(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0) return true;
    if (c >= 0xd800 && c <= 0xdfff) {
      if (c >= 0xdc00) return true; // a low surrogate with no high one before it
      const next = s.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return true;
      i++;
    }
  }
  return false;
}

/** True when any string (key or value) in a parsed JSON-like value is unsafe text; `maxDepth` bounds the walk. */
export function containsUnsafeText(value: unknown, maxDepth = 64): boolean {
  if (typeof value === 'string') return isUnsafeText(value);
  if (value === null || typeof value !== 'object' || maxDepth <= 0) return false;
  if (Array.isArray(value)) return value.some((v) => containsUnsafeText(v, maxDepth - 1));
  for (const [k, v] of Object.entries(value)) {
    if (isUnsafeText(k) || containsUnsafeText(v, maxDepth - 1)) return true;
  }
  return false;
}
