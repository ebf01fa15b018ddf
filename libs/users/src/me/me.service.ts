import { Injectable } from '@nestjs/common';
import { AppError, RequestContext, serializeOnce } from '#libs/common';
import {
  KeySpend,
  KeySpendCache,
  OpenRouterKeyProvisioner,
  OpenRouterKeyStore,
  UserBudgets,
  type BudgetStanding,
} from '#libs/openrouter';
import { ProviderKeysService } from '../provider-keys.service';
import { UserSnapshotCache } from '../snapshot/user-snapshot.cache';
import type { UserSnapshot } from '../snapshot/user-snapshot';
import { MeResponseDto, toMeResponse, withKeySpend } from './me.response';

/** The response for one active tenant, and its last copy with the key's spend merged in. */
interface TenantView {
  readonly response: MeResponseDto;
  spend?: KeySpend | null;
  budget?: BudgetStanding;
  withSpend?: MeResponseDto;
}

/** What a snapshot yields for `/me`: its keys decrypted once, and the response per active tenant. */
interface MeViews {
  openRouterKey: string | null;
  glmKey: string | null;
  byTenant: Map<string, TenantView>;
}

/**
 * Assembles the signed-in user's own view from their (cached) snapshot. Once warm it is served from
 * memory: the keys are decrypted once per snapshot, and the response is built once per snapshot and
 * active tenant (role included). A snapshot is replaced whenever the user, their keys, memberships or
 * tenants change (on every instance, through the invalidation bus), and the views go with it: they
 * are held weakly by the snapshot object they were made from.
 *
 * The cached response is shared: callers must not mutate it. A field that changes independently of
 * the snapshot (spend read from OpenRouter) is merged into a copy, kept until that spend changes; the
 * copy is serialised once (serializeOnce), so a warm `/me` reuses its JSON.
 */
@Injectable()
export class MeService {
  private readonly views = new WeakMap<UserSnapshot, MeViews>();

  constructor(
    private readonly snapshots: UserSnapshotCache,
    private readonly keys: OpenRouterKeyStore,
    private readonly provisioner: OpenRouterKeyProvisioner,
    private readonly providerKeys: ProviderKeysService,
    private readonly spend: KeySpendCache,
    private readonly budgets: UserBudgets,
  ) {}

  async me(ctx: RequestContext): Promise<MeResponseDto> {
    const clerkUserId = ctx.user?.clerkUserId;
    let snapshot = clerkUserId ? await this.snapshots.get(clerkUserId) : null;
    // A new budget period (or budget) since the key was last set: its limit is brought up to date first.
    if (snapshot && this.budgets.isStale(snapshot.keyRow)) {
      await this.budgets.keepCurrent(snapshot.keyRow);
      snapshot = await this.snapshots.get(clerkUserId!);
    }
    if (!snapshot) throw new AppError('invalid_token', 'The user of this session no longer exists');
    const views = this.viewsOf(snapshot);
    const tenantKey = `${ctx.tenant.id}\u0000${ctx.role ?? ''}\u0000${ctx.tenant.name}\u0000${ctx.tenant.slug}`;
    let view = views.byTenant.get(tenantKey);
    if (!view) {
      const { user, keyRow, tenants } = snapshot;
      view = {
        response: toMeResponse({
          user,
          keyRow,
          openRouterKey: views.openRouterKey,
          provisioningConfigured: this.provisioner.configured,
          glmKey: views.glmKey,
          activeTenant: { ...ctx.tenant, role: ctx.role },
          tenants,
        }),
      };
      views.byTenant.set(tenantKey, view);
    }
    const spend = this.spend.peek(snapshot.keyRow?.upstreamHash);
    const budget = this.budgets.standing(snapshot.keyRow);
    if (!view.withSpend || view.spend !== spend || !sameStanding(view.budget, budget)) {
      view.spend = spend;
      view.budget = budget;
      view.withSpend = serializeOnce(withKeySpend(view.response, spend, budget));
    }
    return view.withSpend;
  }

  private viewsOf(snapshot: UserSnapshot): MeViews {
    let views = this.views.get(snapshot);
    if (!views) {
      const { keyRow, glmKeyEncrypted } = snapshot;
      views = {
        openRouterKey: keyRow?.status === 'active' ? this.keys.plaintextOf(keyRow) : null,
        glmKey: this.providerKeys.open(snapshot.user.id, 'glm', glmKeyEncrypted),
        byTenant: new Map(),
      };
      this.views.set(snapshot, views);
    }
    return views;
  }
}

function sameStanding(a: BudgetStanding | undefined, b: BudgetStanding): boolean {
  return (
    a !== undefined &&
    a.budget === b.budget &&
    a.replacedSpend === b.replacedSpend &&
    a.period === b.period &&
    a.periodStart?.getTime() === b.periodStart?.getTime()
  );
}
