import { Injectable } from '@nestjs/common';
import { AppError, RequestContext } from '#libs/common';
import { OpenRouterKeyProvisioner, OpenRouterKeyStore } from '#libs/openrouter';
import { ProviderKeysService } from '../provider-keys.service';
import { UserSnapshotCache } from '../snapshot/user-snapshot.cache';
import { MeResponseDto, toMeResponse } from './me.response';

/** Assembles the signed-in user's own view from their (cached) snapshot. */
@Injectable()
export class MeService {
  constructor(
    private readonly snapshots: UserSnapshotCache,
    private readonly keys: OpenRouterKeyStore,
    private readonly provisioner: OpenRouterKeyProvisioner,
    private readonly providerKeys: ProviderKeysService,
  ) {}

  async me(ctx: RequestContext): Promise<MeResponseDto> {
    const snapshot = ctx.user?.clerkUserId ? await this.snapshots.get(ctx.user.clerkUserId) : null;
    if (!snapshot) throw new AppError(401, 'invalid_token', 'The user of this session no longer exists');
    const { user, keyRow, tenants, glmKeyEncrypted } = snapshot;
    return toMeResponse({
      user,
      keyRow,
      openRouterKey: keyRow?.status === 'active' ? this.keys.plaintextOf(keyRow) : null,
      provisioningConfigured: this.provisioner.configured,
      glmKey: this.providerKeys.open(user.id, 'glm', glmKeyEncrypted),
      activeTenant: { ...ctx.tenant, role: ctx.role },
      tenants,
    });
  }
}
