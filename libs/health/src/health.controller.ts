import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import {
  HealthCheckService,
  HealthIndicatorResult,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { Public } from '#libs/common';
import { AppConfig } from '#libs/config';
import { REDIS_CLIENT, RedisClient } from '#libs/redis';

type CheckState = 'up' | 'down' | 'not_configured';

/** Readiness. Liveness (`GET /api/health`) is a plain Fastify route: see apps/api/src/bootstrap/liveness.ts. */
@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly config: AppConfig,
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
  ) {}

  /** Readiness: the database (and Redis, when configured) answer. */
  @Get('ready')
  @ApiOperation({ summary: 'Readiness: database, Redis and OpenRouter provisioning' })
  @ApiOkResponse({
    schema: {
      example: {
        status: 'ok',
        checks: { database: 'up', redis: 'not_configured', openrouter_provisioning: 'configured' },
      },
    },
  })
  @ApiServiceUnavailableResponse({ description: 'A dependency is down' })
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    const checks = {
      database: await this.check(() => this.db.pingCheck('database').withTimeout(2000)),
      redis: this.redis
        ? await this.check(() =>
            this.indicators
              .check('redis')
              .attempt(async () => {
                await this.redis!.ping();
              })
              .withTimeout(1000),
          )
        : ('not_configured' as CheckState),
      openrouter_provisioning: this.config.openRouter.provisioningKey ? 'configured' : 'not_configured',
    };
    const ok = checks.database === 'up' && checks.redis !== 'down';
    void reply.status(ok ? 200 : 503);
    return { status: ok ? 'ok' : 'error', checks };
  }

  /** Terminus runs the indicator (with its timeout) and throws when it is down. */
  private async check(indicator: () => PromiseLike<HealthIndicatorResult>): Promise<CheckState> {
    try {
      await this.health.check([() => indicator()]);
      return 'up';
    } catch {
      return 'down';
    }
  }
}
