import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags, ApiTooManyRequestsResponse } from '@nestjs/swagger';
import { RecentSpend, TokensUsedView, VerifiedApiKey, verifiedApiKeyOf } from '#libs/api-keys';
import { ApiKeyAuth, CurrentContext, RequestContext, serializeOnce } from '#libs/common';
import { V1MeResponseDto } from './v1-me.response';

interface LastAnswer {
  readonly tokensUsed: number | null;
  readonly spend: RecentSpend | null;
  readonly tenant: RequestContext['tenant'];
  readonly user: RequestContext['user'];
  readonly response: V1MeResponseDto;
}

@ApiTags('tenant integration')
@ApiKeyAuth()
@Controller('v1/me')
export class V1MeController {
  /**
   * The last answer per verified key (held weakly by the cached key object, so a re-verified or evicted
   * key drops it), reused while tokens_used, both spent_usd and the context's tenant and user objects are
   * unchanged: a polled key is answered with the same JSON.
   */
  private readonly answers = new WeakMap<VerifiedApiKey, LastAnswer>();

  constructor(private readonly usage: TokensUsedView) {}

  /** Served from the verified-key cache: no database round trip once warm (tokens_used, spent_usd: ≤ 1 s old). */
  @Get()
  @ApiOperation({
    summary: 'The API key with its limits and usage, its tenant with its budget, and the member it acts as',
  })
  @ApiOkResponse({ type: V1MeResponseDto })
  @ApiTooManyRequestsResponse({ description: '`rate_limited`, with Retry-After' })
  async me(@CurrentContext() ctx: RequestContext): Promise<V1MeResponseDto> {
    const key = verifiedApiKeyOf(ctx);
    if (!key) throw new Error('GET /api/v1/me without a verified API key');
    const [tokensUsed, spend] = await Promise.all([
      this.usage.recentOf(key.id, key.quotaPeriod),
      this.usage.recentSpendOf(
        { id: key.id, period: key.budgetPeriod },
        { id: key.tenantId, period: key.tenantBudgetPeriod },
      ),
    ]);
    const last = this.answers.get(key);
    if (
      last &&
      last.tokensUsed === tokensUsed &&
      last.spend?.key === spend?.key &&
      last.spend?.tenant === spend?.tenant &&
      last.tenant === ctx.tenant &&
      last.user === ctx.user
    )
      return last.response;
    const response = serializeOnce(this.answer(ctx, key, tokensUsed, spend));
    this.answers.set(key, { tokensUsed, spend, tenant: ctx.tenant, user: ctx.user, response });
    return response;
  }

  private answer(
    ctx: RequestContext,
    key: VerifiedApiKey,
    tokensUsed: number | null,
    spend: RecentSpend | null,
  ): V1MeResponseDto {
    return {
      tenant: {
        id: ctx.tenant.id,
        name: ctx.tenant.name,
        slug: ctx.tenant.slug,
        budget_usd: key.tenantBudgetUsd,
        budget_period: key.tenantBudgetPeriod,
        spent_usd: spend?.tenant ?? null,
      },
      api_key: {
        id: key.id,
        name: key.name,
        prefix: key.prefix,
        scopes: [...key.scopes],
        rate_limit_per_minute: key.rateLimitPerMinute,
        token_quota: key.tokenQuota,
        quota_period: key.quotaPeriod,
        tokens_used: tokensUsed,
        budget_usd: key.budgetUsd,
        budget_period: key.budgetPeriod,
        spent_usd: spend?.key ?? null,
        expires_at: key.expiresAt,
      },
      user: ctx.user ? { id: ctx.user.id, email: ctx.user.email } : null,
    };
  }
}
