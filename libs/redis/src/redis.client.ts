import { Logger } from '@nestjs/common';
import Redis from 'ioredis';

/** The shared Redis connection, or null when REDIS_URL is unset (single instance, in-process state). */
export const REDIS_CLIENT = Symbol('REDIS_CLIENT');
export type RedisClient = Redis | null;

export function createRedis(url: string, name: string): Redis {
  const logger = new Logger(`Redis:${name}`);
  const client = new Redis(url, {
    connectionName: name,
    // Fail commands at once while Redis is down rather than queueing them behind requests.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  let lastError = '';
  client.on('error', (err: Error & { code?: string }) => {
    const message = err.code ?? err.message;
    if (message !== lastError) logger.warn(`Redis error: ${message}`);
    lastError = message;
  });
  client.on('ready', () => {
    if (lastError) logger.log('Redis connection restored');
    lastError = '';
  });
  return client;
}
