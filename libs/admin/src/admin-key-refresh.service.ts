import { Injectable } from '@nestjs/common';
import type { AuditActor } from '#libs/audit';
import { AppError, Errors } from '#libs/common';
import { OpenRouterKeyProvisioner } from '#libs/openrouter';
import { AdminDirectory } from './admin-directory.service';
import { AdminUserDto } from './dto/admin-user.response';

/** Replaces any user's OpenRouter key on an operator's behalf (admin route and command line). */
@Injectable()
export class AdminKeyRefresh {
  constructor(
    private readonly directory: AdminDirectory,
    private readonly provisioner: OpenRouterKeyProvisioner,
  ) {}

  /**
   * `userRef`: id, Clerk id or email. Same steps as the user's own refresh (the old key's spend counted, new key
   * stored, old one deleted), and also for a key an operator disabled upstream.
   */
  async refresh(userRef: string, actor: AuditActor): Promise<AdminUserDto> {
    const user = await this.directory.user(userRef);
    if (!user) throw Errors.notFound('User');
    if (user.status !== 'active') {
      throw new AppError('user_not_active', `The user is ${user.status}; only active users get OpenRouter keys`);
    }
    await this.provisioner.replace(user.id, 'refresh', actor, null, { replaceDisabled: true });
    return (await this.directory.user(user.id))!;
  }
}
