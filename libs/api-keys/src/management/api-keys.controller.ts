import { Body, Controller, Delete, Get, Header, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { AuditScope, CurrentAuditScope } from '#libs/audit';
import { ClerkAuth, ContextUser, CurrentUser } from '#libs/common';
import { PathTenant, PathTenantAccess, TenantRoles } from '#libs/tenants';
import type { ApiKey } from '../api-key.entity';
import { ApiKeyRepository } from '../api-key.repository';
import { TokensUsedView } from '../usage/tokens-used.view';
import { ApiKeyEditor } from './api-key-editor.service';
import { ApiKeyIssuer } from './api-key-issuer.service';
import { ApiKeyRevoker } from './api-key-revoker.service';
import { NO_USAGE, toApiKeyResponse, toCreatedApiKeyResponse } from './api-key.mapper';
import { ApiKeyResponseDto, CreatedApiKeyResponseDto } from './dto/api-key.response';
import { CreateApiKeyDto } from './dto/create-api-key.dto';
import { ListApiKeysQuery } from './dto/list-api-keys.query';
import { RotateApiKeyDto } from './dto/rotate-api-key.dto';
import { UpdateApiKeyDto } from './dto/update-api-key.dto';

const date = (value: string | null | undefined) =>
  value === undefined ? undefined : value === null ? null : new Date(value);

/**
 * Tenant API keys, managed by the tenant's owners and admins (Clerk). Anyone of them may disable, revoke,
 * narrow or lower a key; only the key's own user rotates it or makes it stronger (403 `forbidden`).
 */
@ApiTags('api-keys')
@ClerkAuth()
@TenantRoles('owner', 'admin')
@Controller('tenants/:tenantId/api-keys')
export class ApiKeysController {
  constructor(
    private readonly keys: ApiKeyRepository,
    private readonly issuer: ApiKeyIssuer,
    private readonly editor: ApiKeyEditor,
    private readonly revoker: ApiKeyRevoker,
    private readonly tokens: TokensUsedView,
  ) {}

  @Post()
  @Header('Cache-Control', 'no-store')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a key; the plaintext `key` is in this response only' })
  @ApiCreatedResponse({ type: CreatedApiKeyResponseDto })
  async create(
    @PathTenant() tenant: PathTenantAccess,
    @CurrentUser() user: ContextUser,
    @Body() dto: CreateApiKeyDto,
    @CurrentAuditScope() scope: AuditScope,
  ): Promise<CreatedApiKeyResponseDto> {
    const { key, plaintext } = await this.issuer.create(
      tenant.id,
      {
        name: dto.name,
        userId: dto.user_id,
        scopes: dto.scopes,
        rateLimitPerMinute: dto.rate_limit_per_minute,
        tokenQuota: dto.token_quota,
        quotaPeriod: dto.quota_period,
        budgetUsd: dto.budget_usd,
        budgetPeriod: dto.budget_period,
        expiresAt: date(dto.expires_at),
      },
      user.id,
      scope,
    );
    return toCreatedApiKeyResponse(key, NO_USAGE, plaintext);
  }

  @Get()
  @ApiOperation({ summary: "The tenant's keys (without plaintext); revoked ones with include_revoked=true" })
  @ApiOkResponse({ type: [ApiKeyResponseDto] })
  async list(@PathTenant() tenant: PathTenantAccess, @Query() query: ListApiKeysQuery): Promise<ApiKeyResponseDto[]> {
    return this.respond(await this.keys.forTenant(tenant.id).list(query.include_revoked ?? false));
  }

  @Get(':keyId')
  @ApiOperation({ summary: 'One key (without plaintext)' })
  @ApiOkResponse({ type: ApiKeyResponseDto })
  async get(@PathTenant() tenant: PathTenantAccess, @Param('keyId') keyId: string): Promise<ApiKeyResponseDto> {
    const [response] = await this.respond([await this.keys.forTenant(tenant.id).get(keyId)]);
    return response;
  }

  @Patch(':keyId')
  @ApiOperation({ summary: "Change a key's settings; effective from the next request on every instance" })
  @ApiOkResponse({ type: ApiKeyResponseDto })
  @ApiConflictResponse({ description: '`api_key_already_revoked`' })
  @ApiForbiddenResponse({ description: "`forbidden`: making the key stronger is for the key's own user" })
  async update(
    @PathTenant() tenant: PathTenantAccess,
    @Param('keyId') keyId: string,
    @Body() dto: UpdateApiKeyDto,
    @CurrentAuditScope() scope: AuditScope,
  ): Promise<ApiKeyResponseDto> {
    const key = await this.editor.update(
      tenant.id,
      keyId,
      {
        name: dto.name,
        scopes: dto.scopes,
        rateLimitPerMinute: dto.rate_limit_per_minute,
        tokenQuota: dto.token_quota,
        quotaPeriod: dto.quota_period,
        budgetUsd: dto.budget_usd,
        budgetPeriod: dto.budget_period,
        isActive: dto.is_active,
        expiresAt: date(dto.expires_at),
      },
      scope,
    );
    const [response] = await this.respond([key]);
    return response;
  }

  @Post(':keyId/rotate')
  @Header('Cache-Control', 'no-store')
  @HttpCode(201)
  @ApiOperation({
    summary:
      'Replace the key by a new one (plaintext in this response only); the old key works until the grace period ends',
  })
  @ApiCreatedResponse({ type: CreatedApiKeyResponseDto })
  @ApiConflictResponse({ description: '`api_key_already_revoked`, `api_key_rotating`, `api_key_already_expired`' })
  @ApiForbiddenResponse({ description: "`forbidden`: only the key's own user rotates it" })
  async rotate(
    @PathTenant() tenant: PathTenantAccess,
    @Param('keyId') keyId: string,
    @Body() dto: RotateApiKeyDto,
    @CurrentAuditScope() scope: AuditScope,
  ): Promise<CreatedApiKeyResponseDto> {
    const { key, plaintext } = await this.issuer.rotate(tenant.id, keyId, dto.grace_period_seconds ?? 0, scope);
    // The rotated key carries the old key's usage over (see ApiKeyIssuer.rotate).
    const used = await this.tokens.exact([key]);
    return toCreatedApiKeyResponse(key, used.get(key.id) ?? NO_USAGE, plaintext);
  }

  @Delete(':keyId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a key: refused from the next request on, on every instance' })
  @ApiNoContentResponse()
  async revoke(
    @PathTenant() tenant: PathTenantAccess,
    @Param('keyId') keyId: string,
    @CurrentAuditScope() scope: AuditScope,
  ): Promise<void> {
    await this.revoker.revoke(tenant.id, keyId, scope);
  }

  /** Keys with their exact tokens_used and spent_usd, read for the whole list at once. */
  private async respond(keys: ApiKey[]): Promise<ApiKeyResponseDto[]> {
    const used = await this.tokens.exact(keys);
    return keys.map((k) => toApiKeyResponse(k, used.get(k.id) ?? NO_USAGE));
  }
}
