/** The few API calls the benchmark and soak run make to set themselves up, on plain fetch. */
import { randomBytes } from 'node:crypto';
import { signClerkToken } from '../../test/support/clerk-tokens';

export interface Session {
  token: string;
  userId: string;
  tenantId: string;
  /** The user's provisioned upstream key (null when provisioning failed). */
  openRouterKey: string | null;
}

export interface Reply {
  status: number;
  body: any;
}

export async function call(
  baseUrl: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: unknown,
): Promise<Reply> {
  const res = await fetch(baseUrl + path, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed };
}

/** A Clerk-shaped token for a new user (profile in the claims, so no Clerk API call is needed). */
export function newUserToken(label: string): { token: string; sub: string } {
  const sub = `user_${label}_${randomBytes(6).toString('hex')}`;
  const token = signClerkToken({ sub, email: `${sub}@example.com`, first_name: 'Bench', last_name: label }, {});
  return { token, sub };
}

/** Signs in (the first request of a session is the login, which provisions the upstream key). */
export async function signIn(baseUrl: string, token: string): Promise<Session> {
  const me = await call(baseUrl, 'GET', '/api/users/me', { authorization: `Bearer ${token}` });
  if (me.status !== 200) throw new Error(`GET /api/users/me answered ${me.status}: ${JSON.stringify(me.body)}`);
  return { token, userId: me.body.id, tenantId: me.body.tenant.id, openRouterKey: me.body.openrouter_api_key };
}

export type ApiKeyResult = { available: true; id: string; key: string } | { available: false; reason: string };

/**
 * Creates a tenant API key through the contract's route. A 404 means the route does not exist in this build
 * (tenant API keys not implemented yet), which the benchmark reports rather than fails on.
 */
export async function createApiKey(
  baseUrl: string,
  session: Session,
  body: Record<string, unknown>,
): Promise<ApiKeyResult> {
  const res = await call(
    baseUrl,
    'POST',
    `/api/tenants/${session.tenantId}/api-keys`,
    { authorization: `Bearer ${session.token}` },
    body,
  );
  if (res.status === 201 && typeof res.body?.key === 'string')
    return { available: true, id: res.body.id, key: res.body.key };
  if (res.status === 404)
    return { available: false, reason: 'POST /api/tenants/{id}/api-keys not found (tenant API keys not built yet)' };
  return { available: false, reason: `creating an API key answered ${res.status} ${JSON.stringify(res.body)}` };
}

export const CHAT_BODY = JSON.stringify({
  model: 'openai/gpt-4o-mini',
  messages: [{ role: 'user', content: 'Say hello in five words.' }],
});
