import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { REDIS_CLIENT, RedisClient } from './redis.client';

const CHANNEL = 'umb:invalidate';

/** What can be invalidated; the id is the changed row's id. */
export const CacheTopic = {
  /** A user's profile, OpenRouter key, provider keys or memberships changed. */
  user: 'user',
  /** A tenant was renamed or deleted (every member's view changes). */
  tenant: 'tenant',
  /** A tenant API key was updated, rotated, disabled or revoked. */
  apiKey: 'api_key',
} as const;

type Handler = (id: string) => void;

/**
 * Tells every instance that something it may have cached changed ("user 42", "api_key 7").
 * Handlers of this instance run at once, synchronously, before publish() returns; other instances
 * hear it through Redis pub/sub. Without Redis there is one instance and local delivery is enough.
 */
@Injectable()
export class InvalidationBus implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(InvalidationBus.name);
  private readonly origin = randomUUID();
  private readonly handlers = new Map<string, Handler[]>();
  private subscriber: Redis | null = null;

  constructor(@Inject(REDIS_CLIENT) private readonly redis: RedisClient) {}

  async onModuleInit(): Promise<void> {
    if (!this.redis) return;
    // A subscribed connection can do nothing else, hence a connection of its own.
    this.subscriber = this.redis.duplicate({ connectionName: 'invalidations', enableOfflineQueue: true });
    this.subscriber.on('error', () => undefined); // the main connection already reports Redis errors
    this.subscriber.on('message', (_channel: string, message: string) => this.receive(message));
    await this.subscriber
      .subscribe(CHANNEL)
      .catch((err: Error) => this.logger.warn(`Subscribing to invalidations failed: ${err.message}`));
  }

  async onApplicationShutdown(): Promise<void> {
    this.subscriber?.disconnect();
  }

  on(topic: string, handler: Handler): void {
    this.handlers.set(topic, [...(this.handlers.get(topic) ?? []), handler]);
  }

  /**
   * Resolves once Redis has handed the message to every subscribed instance (never rejects), so a
   * caller that must not answer before the change is visible everywhere can await it.
   */
  async publish(topic: string, id: string): Promise<void> {
    this.deliver(topic, id);
    if (!this.redis) return;
    try {
      await this.redis.publish(CHANNEL, JSON.stringify({ topic, id, origin: this.origin }));
    } catch (err) {
      // Other instances then keep their entry until its short expiry; nothing better can be done.
      this.logger.warn(`Publishing an invalidation of ${topic} failed: ${(err as Error).message}`);
    }
  }

  private receive(message: string): void {
    try {
      const { topic, id, origin } = JSON.parse(message) as { topic: string; id: string; origin: string };
      if (origin !== this.origin) this.deliver(topic, id);
    } catch {
      this.logger.warn('Ignored a malformed invalidation message');
    }
  }

  private deliver(topic: string, id: string): void {
    for (const handler of this.handlers.get(topic) ?? []) handler(id);
  }
}
