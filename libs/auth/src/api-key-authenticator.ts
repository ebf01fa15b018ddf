import type { RequestContext } from '#libs/common';

/**
 * Resolves a tenant API key into a request context, or throws the contract's coded error
 * (`invalid_api_key`, `api_key_revoked`, `api_key_expired`, `api_key_disabled`). Provided by the
 * api-keys capability; the auth guard only depends on this interface.
 */
export interface ApiKeyAuthenticator {
  authenticate(rawKey: string, request: { id: string }): Promise<RequestContext>;
}

export const API_KEY_AUTHENTICATOR = Symbol('API_KEY_AUTHENTICATOR');
