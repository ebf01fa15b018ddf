import { Injectable, Logger } from '@nestjs/common';
import { OpenRouterClient, OpenRouterError } from '#libs/openrouter';
import { GatewayErrors } from '../errors/openai-error';

/** The list is fresh this long; OpenRouter's catalogue changes a few times a day. */
const FRESH_MS = 5 * 60_000;
/** While OpenRouter is failing, a list this old is still better than an error. */
const STALE_MS = 60 * 60_000;

interface Entry {
  /** Serialised once, sent as is to every caller. */
  json: string;
  fetchedAt: number;
}

/** OpenRouter's model list, cached in process, fetched by one request at a time (single flight). */
@Injectable()
export class ModelsCatalog {
  private readonly logger = new Logger(ModelsCatalog.name);
  private entry: Entry | null = null;
  private inFlight: Promise<Entry> | null = null;

  constructor(private readonly client: OpenRouterClient) {}

  async json(now = Date.now()): Promise<string> {
    const entry = this.entry;
    if (entry && now - entry.fetchedAt < FRESH_MS) return entry.json;
    try {
      return (await this.refresh()).json;
    } catch (err) {
      if (entry && now - entry.fetchedAt < STALE_MS) {
        this.logger.warn(`Serving a stale model list: ${err instanceof OpenRouterError ? err.code : 'error'}`);
        return entry.json;
      }
      throw GatewayErrors.modelsUnavailable();
    }
  }

  private refresh(): Promise<Entry> {
    this.inFlight ??= this.client
      .listModels()
      .then((list) => (this.entry = { json: JSON.stringify(list), fetchedAt: Date.now() }))
      .finally(() => (this.inFlight = null));
    return this.inFlight;
  }
}
