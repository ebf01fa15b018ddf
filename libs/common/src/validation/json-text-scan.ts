/** Why a JSON text was refused before being parsed. */
export type JsonTextProblem = 'too_deep' | 'unsafe_text';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * One linear pass over a JSON text, before JSON.parse builds anything: nesting deeper than `maxDepth`, or a
 * string escape that decodes to NUL or to a lone surrogate (`\u0000`, `\ud800` without its pair). Raw NUL and
 * raw control characters are invalid JSON already, and decoded UTF-8 cannot hold a lone surrogate, so escapes
 * are the only way in. Syntax errors are left to JSON.parse.
 */
export function scanJsonText(text: string, maxDepth: number): JsonTextProblem | null {
  let depth = 0;
  let inString = false;
  let pendingHigh = false; // the previous escape was a high surrogate waiting for its low half
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === QUOTE) {
        if (pendingHigh) return 'unsafe_text';
        inString = false;
      } else if (c === BACKSLASH) {
        const kind = text.charCodeAt(i + 1);
        if (kind === 0x75 /* u */) {
          const code = parseInt(text.slice(i + 2, i + 6), 16);
          if (code === 0) return 'unsafe_text';
          const high = code >= 0xd800 && code <= 0xdbff;
          const low = code >= 0xdc00 && code <= 0xdfff;
          if (low && !pendingHigh) return 'unsafe_text';
          if (pendingHigh && !low) return 'unsafe_text';
          pendingHigh = high;
          i += 5;
        } else {
          if (pendingHigh) return 'unsafe_text';
          i++;
        }
      } else if (pendingHigh) {
        return 'unsafe_text';
      }
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > maxDepth) return 'too_deep';
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return null;
}
