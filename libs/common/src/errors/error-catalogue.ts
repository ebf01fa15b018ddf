/** OpenAI's error `type`s, as OpenAI SDKs switch on them. */
export const OPENAI_ERROR_TYPES = [
  'invalid_request_error',
  'authentication_error',
  'permission_error',
  'not_found_error',
  'rate_limit_error',
  'insufficient_quota',
  'server_error',
] as const;
export type OpenAiErrorType = (typeof OPENAI_ERROR_TYPES)[number];

export interface ErrorCodeEntry {
  readonly status: number;
  readonly openAiType: OpenAiErrorType;
}

export const errorEntry = (status: number, openAiType: OpenAiErrorType): ErrorCodeEntry => ({ status, openAiType });

/**
 * The codes any HTTP service answers: HTTP's own refusals and the platform's (bad input, credentials, the
 * database). A lib's own codes live in its `<lib>.errors.ts`, which registers them (`registerErrorCodes`) and adds
 * them to `ErrorCodes`; its index.ts loads that file, so a lib's codes exist as soon as the lib is loaded. A code
 * thrown by several libs belongs to the lowest of them (the others load it through its index).
 */
const HTTP_ERROR_CODES = {
  // 400: the request itself is wrong.
  bad_request: errorEntry(400, 'invalid_request_error'),
  validation_failed: errorEntry(400, 'invalid_request_error'),
  invalid_json: errorEntry(400, 'invalid_request_error'),
  invalid_request_body: errorEntry(400, 'invalid_request_error'),
  invalid_cursor: errorEntry(400, 'invalid_request_error'),
  // 401: no usable credential. `invalid_token` is a bearer token's (RFC 6750), whoever issues it.
  unauthenticated: errorEntry(401, 'authentication_error'),
  invalid_token: errorEntry(401, 'authentication_error'),
  // 403: a valid credential that may not do this.
  forbidden: errorEntry(403, 'permission_error'),
  not_found: errorEntry(404, 'not_found_error'),
  method_not_allowed: errorEntry(405, 'invalid_request_error'),
  not_acceptable: errorEntry(406, 'invalid_request_error'),
  request_timeout: errorEntry(408, 'invalid_request_error'),
  // 409: the request is fine but the state it meets refuses it.
  conflict: errorEntry(409, 'invalid_request_error'),
  payload_too_large: errorEntry(413, 'invalid_request_error'),
  uri_too_long: errorEntry(414, 'invalid_request_error'),
  unsupported_media_type: errorEntry(415, 'invalid_request_error'),
  unprocessable_entity: errorEntry(422, 'invalid_request_error'),
  rate_limited: errorEntry(429, 'rate_limit_error'),
  header_fields_too_large: errorEntry(431, 'invalid_request_error'),
  // 5xx: ours, or a server behind us.
  internal_error: errorEntry(500, 'server_error'),
  bad_gateway: errorEntry(502, 'server_error'),
  service_unavailable: errorEntry(503, 'server_error'),
  database_unavailable: errorEntry(503, 'server_error'),
  gateway_timeout: errorEntry(504, 'server_error'),
} as const satisfies Record<string, ErrorCodeEntry>;

type HttpErrorCodes = typeof HTTP_ERROR_CODES;

/**
 * Every error code the service answers, by name. A lib adds its codes by module augmentation, from the very
 * object it registers, so that the type and the registry cannot tell two stories:
 *
 *     const TENANT_ERROR_CODES = registerErrorCodes('tenants', { slug_taken: errorEntry(409, ...) });
 *     type TenantErrorCodes = typeof TENANT_ERROR_CODES;
 *     declare module '#libs/common' {
 *       interface ErrorCodes extends TenantErrorCodes {}
 *     }
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by the libs' augmentations
export interface ErrorCodes extends HttpErrorCodes {}

/** A code of the catalogue: a closed union, so a throw site cannot name a code nobody registered. */
export type ErrorCode = keyof ErrorCodes & string;

/** code → its entry, and the lib that registered it (for the start-up error when two libs claim one code). */
const REGISTRY = new Map<string, ErrorCodeEntry & { owner: string }>();

/**
 * Adds a lib's codes to the catalogue; runs when the lib's errors file is loaded. One code has one status and one
 * owner: a code registered a second time (by another lib, or with another status) stops the start-up.
 */
export function registerErrorCodes<const T extends Record<string, ErrorCodeEntry>>(owner: string, entries: T): T {
  // All checked before any is added, so a refused registration leaves the catalogue as it was.
  for (const [code, entry] of Object.entries(entries)) {
    if (!/^[a-z]+(_[a-z]+)*$/.test(code)) throw new Error(`Error code "${code}" (${owner}) is not lower-snake`);
    const known = REGISTRY.get(code);
    if (known)
      throw new Error(
        `Error code "${code}" is registered twice: by ${known.owner} (${known.status}) and by ${owner} (${entry.status})`,
      );
  }
  for (const [code, entry] of Object.entries(entries))
    REGISTRY.set(code, { status: entry.status, openAiType: entry.openAiType, owner });
  return entries;
}

registerErrorCodes('common', HTTP_ERROR_CODES);

/** The codes registered so far, each with its entry and owner (for tests and documentation). */
export function registeredErrorCodes(): ReadonlyMap<string, Readonly<ErrorCodeEntry & { owner: string }>> {
  return REGISTRY;
}

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && REGISTRY.has(code);
}

export function errorEntryOf(code: ErrorCode): ErrorCodeEntry {
  const entry = REGISTRY.get(code);
  // A code in the union whose lib's errors file was never loaded: a wiring bug, not a client's error.
  if (!entry) throw new Error(`Error code "${code}" is not registered (is its lib's errors file loaded?)`);
  return entry;
}

export function statusOf(code: ErrorCode): number {
  return errorEntryOf(code).status;
}

export function openAiTypeOf(code: ErrorCode): OpenAiErrorType {
  return errorEntryOf(code).openAiType;
}

/** Code of an error that carries none of its own (framework exceptions), by its HTTP status. */
export function defaultCodeFor(status: number): ErrorCode {
  switch (status) {
    case 400:
      return 'bad_request';
    case 401:
      return 'unauthenticated';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 405:
      return 'method_not_allowed';
    case 406:
      return 'not_acceptable';
    case 408:
      return 'request_timeout';
    case 409:
      return 'conflict';
    case 413:
      return 'payload_too_large';
    case 414:
      return 'uri_too_long';
    case 415:
      return 'unsupported_media_type';
    case 431:
      return 'header_fields_too_large';
    case 422:
      return 'unprocessable_entity';
    case 429:
      return 'rate_limited';
    case 502:
      return 'bad_gateway';
    case 503:
      return 'service_unavailable';
    case 504:
      return 'gateway_timeout';
    default:
      return status >= 500 ? 'internal_error' : 'bad_request';
  }
}

/**
 * OpenAI `type` of an error whose code is not ours (an upstream's own errors, passed through with their
 * status): by status, as OpenAI answers them.
 */
export function openAiTypeForStatus(status: number): OpenAiErrorType {
  if (status === 402) return 'insufficient_quota';
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}
