import { Injectable, Logger } from '@nestjs/common';
import { verifyToken } from '@clerk/backend';
import { AppError, containsUnsafeText, Errors, LruCache } from '#libs/common';
import { AppConfig } from '#libs/config';
import { ClerkClaims, parseClerkClaims } from '#libs/users';

/**
 * Verifies Clerk session tokens with `@clerk/backend`: networkless with CLERK_JWT_KEY, through
 * Clerk's JWKS with CLERK_SECRET_KEY otherwise; `azp` checked against CLERK_AUTHORIZED_PARTIES.
 * Under development sign-in (no Clerk variable, NODE_ENV=development) the development public key takes
 * CLERK_JWT_KEY's place: the same verification, claims and login hook.
 * A verified token is remembered until it expires, since the same token is sent on every request.
 */
@Injectable()
export class ClerkTokenVerifier {
  private readonly logger = new Logger(ClerkTokenVerifier.name);
  private readonly verified = new LruCache<string, ClerkClaims>(20_000, 60_000);

  constructor(private readonly config: AppConfig) {}

  async verify(token: string): Promise<ClerkClaims> {
    const cached = this.verified.get(token);
    if (cached) return cached;
    const { secretKey, authorizedParties, apiUrl } = this.config.clerk;
    const jwtKey = this.config.clerk.jwtKey ?? this.config.developmentSigningKey?.publicKeyPem;
    if (!jwtKey && !secretKey)
      throw Errors.invalidToken('Clerk is not configured on this server (CLERK_JWT_KEY or CLERK_SECRET_KEY)');
    let payload: Record<string, unknown>;
    try {
      const result = (await verifyToken(token, {
        jwtKey,
        secretKey,
        apiUrl,
        authorizedParties: authorizedParties.length ? authorizedParties : undefined,
      })) as unknown as { data?: Record<string, unknown>; errors?: Error[] } & Record<string, unknown>;
      if (result.errors?.length) throw result.errors[0];
      payload = result.data ?? result;
    } catch (err) {
      this.logger.debug(`Clerk token rejected: ${(err as { reason?: string }).reason ?? (err as Error).message}`);
      throw Errors.invalidToken();
    }
    if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string')
      throw Errors.invalidToken('Not a Clerk session token');
    // A claim PostgreSQL cannot store (NUL) or that is not Unicode would fail the login hook's writes.
    if (containsUnsafeText(payload, 8))
      throw new AppError('validation_failed', 'The session token holds a NUL character or a lone UTF-16 surrogate', {
        fields: ['authorization'],
      });
    const claims = parseClerkClaims(payload);
    const expMs = typeof payload.exp === 'number' ? payload.exp * 1000 - Date.now() : 0;
    if (expMs > 0) this.verified.set(token, claims, Math.min(expMs, 60_000));
    return claims;
  }
}
