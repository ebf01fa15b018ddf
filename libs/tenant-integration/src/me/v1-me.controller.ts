import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags, ApiTooManyRequestsResponse } from '@nestjs/swagger';
import { TokensUsedView, verifiedApiKeyOf } from '#libs/api-keys';
import { ApiKeyAuth, CurrentContext, RequestContext } from '#libs/common';
import { V1MeResponseDto } from './v1-me.response';

@ApiTags('tenant integration')
@ApiKeyAuth()
@Controller('v1/me')
export class V1MeController {
  constructor(private readonly tokens: TokensUsedView) {}

  /** Served from the verified-key cache: no database round trip once warm (tokens_used: ≤ 1 s old). */
  @Get()
  @ApiOperation({ summary: 'The API key, its tenant and the member it acts as' })
  @ApiOkResponse({ type: V1MeResponseDto })
  @ApiTooManyRequestsResponse({ description: '`rate_limited`, with Retry-After' })
  async me(@CurrentContext() ctx: RequestContext): Promise<V1MeResponseDto> {
    const key = verifiedApiKeyOf(ctx);
    if (!key) throw new Error('GET /api/v1/me without a verified API key');
    return {
      tenant: { id: ctx.tenant.id, name: ctx.tenant.name, slug: ctx.tenant.slug },
      api_key: {
        id: key.id,
        name: key.name,
        prefix: key.prefix,
        scopes: [...key.scopes],
        rate_limit_per_minute: key.rateLimitPerMinute,
        token_quota: key.tokenQuota,
        quota_period: key.quotaPeriod,
        tokens_used: await this.tokens.recentOf(key.id, key.quotaPeriod),
        expires_at: key.expiresAt,
      },
      user: ctx.user ? { id: ctx.user.id, email: ctx.user.email } : null,
    };
  }
}
