import { Body, Controller, Delete, Get, Header, HttpCode, Post, Put } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ClerkAuth, CurrentContext, RequestContext } from '#libs/common';
import { OpenRouterKeyProvisioner } from '#libs/openrouter';
import { SetProviderKeyDto } from '../dto/set-provider-key.dto';
import { ProviderKeysService } from '../provider-keys.service';
import { MeResponseDto } from './me.response';
import { MeService } from './me.service';

@ApiTags('users')
@ClerkAuth()
@Controller('users/me')
export class MeController {
  constructor(
    private readonly me: MeService,
    private readonly provisioner: OpenRouterKeyProvisioner,
    private readonly providerKeys: ProviderKeysService,
  ) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: "The signed-in user's profile, tenants and own OpenRouter key" })
  @ApiOkResponse({ type: MeResponseDto })
  get(@CurrentContext() ctx: RequestContext): Promise<MeResponseDto> {
    return this.me.me(ctx);
  }

  @Post('openrouter-api-key/refresh')
  @Header('Cache-Control', 'no-store')
  @HttpCode(200)
  @ApiOperation({
    summary:
      "Replace the OpenRouter key (new key stored first, old one deleted upstream); the new key's limit is what is " +
      "left of the user's budget; 5 replacements a minute per user",
  })
  @ApiOkResponse({ type: MeResponseDto })
  async refresh(@CurrentContext() ctx: RequestContext): Promise<MeResponseDto> {
    await this.provisioner.replace(ctx.user!.id, 'refresh', { type: 'user', id: ctx.user!.id });
    return this.me.me(ctx);
  }

  @Put('provider-keys/glm')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: "Store the user's own GLM key (encrypted)" })
  @ApiOkResponse({ type: MeResponseDto })
  async setGlm(@CurrentContext() ctx: RequestContext, @Body() dto: SetProviderKeyDto): Promise<MeResponseDto> {
    await this.providerKeys.set(ctx.user!.id, 'glm', dto.api_key);
    return this.me.me(ctx);
  }

  @Delete('provider-keys/glm')
  @HttpCode(204)
  @ApiOperation({ summary: "Remove the user's GLM key" })
  async removeGlm(@CurrentContext() ctx: RequestContext): Promise<void> {
    await this.providerKeys.remove(ctx.user!.id, 'glm');
  }
}
