import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ACTIVE_API_KEY_SQL } from './admin-directory.service';
import { PlatformStatsDto } from './dto/stats.response';

/** The platform's counters; renewals and failures are counted from the audit trail. */
@Injectable()
export class PlatformStats {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async collect(): Promise<PlatformStatsDto> {
    const [row] = await this.dataSource.query(`SELECT
        (SELECT count(*) FROM users) AS users,
        (SELECT count(*) FROM tenants) AS tenants,
        (SELECT count(*) FROM api_keys k WHERE ${ACTIVE_API_KEY_SQL('k')}) AS api_keys_active,
        (SELECT count(*) FROM openrouter_keys WHERE status = 'active' AND key_encrypted IS NOT NULL) AS openrouter_keys_active,
        (SELECT count(*) FROM openrouter_keys WHERE status = 'active' AND key_encrypted IS NOT NULL AND auto_renewed) AS openrouter_keys_auto_renewed,
        (SELECT count(*) FROM audit_events WHERE action = 'openrouter_key.auto_renewed' AND created_at > now() - interval '24 hours') AS renewals_last_24h,
        (SELECT count(*) FROM audit_events WHERE action = 'openrouter_key.provisioning_failed' AND created_at > now() - interval '24 hours') AS provisioning_failures_last_24h`);
    return {
      users: Number(row.users),
      tenants: Number(row.tenants),
      api_keys_active: Number(row.api_keys_active),
      openrouter_keys_active: Number(row.openrouter_keys_active),
      openrouter_keys_auto_renewed: Number(row.openrouter_keys_auto_renewed),
      renewals_last_24h: Number(row.renewals_last_24h),
      provisioning_failures_last_24h: Number(row.provisioning_failures_last_24h),
    };
  }
}
