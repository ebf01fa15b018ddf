import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AppError, RequestContext } from '../../../common/src';
import { OpenRouterKeyProvisioner, OpenRouterKeyStore } from '../../../openrouter/src';
import { MembershipQueries } from '../../../tenants/src';
import { ProviderKeysService } from '../provider-keys.service';
import { User } from '../user.entity';
import { MeResponseDto, toMeResponse } from './me.response';

/** Assembles the signed-in user's own view. */
@Injectable()
export class MeService {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly keys: OpenRouterKeyStore,
    private readonly provisioner: OpenRouterKeyProvisioner,
    private readonly memberships: MembershipQueries,
    private readonly providerKeys: ProviderKeysService,
  ) {}

  async me(ctx: RequestContext): Promise<MeResponseDto> {
    const userId = ctx.user!.id;
    const [user, keyRow, tenants, glmKey] = await Promise.all([
      this.users.findOneBy({ id: userId }),
      this.keys.find(userId),
      this.memberships.tenantsOf(userId),
      this.providerKeys.get(userId, 'glm'),
    ]);
    if (!user) throw new AppError(401, 'invalid_token', 'The user of this session no longer exists');
    return toMeResponse({
      user,
      keyRow,
      openRouterKey: keyRow?.status === 'active' ? this.keys.plaintextOf(keyRow) : null,
      provisioningConfigured: this.provisioner.configured,
      glmKey,
      activeTenant: { ...ctx.tenant, role: ctx.role },
      tenants,
    });
  }
}
