import { Injectable } from '@nestjs/common';
import { AdminDirectory, AdminTenantDto, AdminUserDto } from '#libs/admin';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { CliError } from './cli-command';

/** Tenants and users named on the command line (id, slug, Clerk id or email), or a one-line failure. */
@Injectable()
export class CliLookup {
  constructor(private readonly directory: AdminDirectory) {}

  async tenant(ref: string): Promise<AdminTenantDto> {
    const tenant = await this.directory.tenant(ref);
    if (!tenant) throw new CliError(`unknown tenant "${ref}" (give its id or slug; see tenants:list)`);
    return tenant;
  }

  /** Null when nobody matches; an error when the user is deactivated. */
  async user(ref: string): Promise<AdminUserDto | null> {
    const user = await this.directory.user(ref);
    if (user?.status === 'deactivated') throw new CliError(`user "${ref}" is deactivated`);
    return user;
  }

  async existingUser(ref: string): Promise<AdminUserDto> {
    const user = await this.user(ref);
    if (!user) throw new CliError(`unknown user "${ref}" (give their id, Clerk id or email; see users:list)`);
    return user;
  }
}

/** Validates command-line input with the HTTP API's own DTO, so that both accept the same values. */
export async function validateLike<T extends object>(
  dto: new () => T,
  plain: Record<string, unknown>,
  flags: Record<string, string>,
): Promise<T> {
  const instance = plainToInstance(dto, plain);
  const errors = await validate(instance, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length) {
    const first = errors[0];
    const flag = flags[first.property] ?? first.property;
    const message = Object.values(first.constraints ?? {})[0]?.replace(first.property, flag);
    // class-validator's messages mostly name the property already ("scopes must contain …"): named once.
    throw new CliError(message?.startsWith(flag) ? message : `${flag}: ${message ?? 'invalid value'}`);
  }
  return instance;
}
