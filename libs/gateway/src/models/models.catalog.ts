import { Injectable, Logger } from '@nestjs/common';
import { OpenRouterClient, OpenRouterError } from '#libs/openrouter';
import { AppError, scrubSecrets } from '#libs/common';
import { GatewayErrors } from '../errors/openai-error';

/** The list is fresh this long; OpenRouter's catalogue changes a few times a day. */
const FRESH_MS = 5 * 60_000;
/** While OpenRouter is failing, a list this old is still better than an error. */
const STALE_MS = 60 * 60_000;

interface Entry {
  /** Serialised once, sent as is to every caller. */
  json: string;
  /** Each model serialised on its own, by id; built at the first lookup. */
  byId: Map<string, string> | null;
  list: unknown;
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
    return (await this.current(now)).json;
  }

  /** One model object of the list, serialised; 404 `model_not_found` in OpenAI's shape when it is not listed. */
  async model(id: string, now = Date.now()): Promise<string> {
    const entry = await this.current(now);
    entry.byId ??= indexById(entry.list);
    const json = entry.byId.get(id);
    if (json === undefined)
      // Scrubbed before the cut, so that no fragment of a key pasted as the id is quoted back.
      throw new AppError(
        'model_not_found',
        `The model '${scrubSecrets(id).slice(0, 200)}' does not exist or is not served`,
      );
    return json;
  }

  private async current(now: number): Promise<Entry> {
    const entry = this.entry;
    if (entry && now - entry.fetchedAt < FRESH_MS) return entry;
    try {
      return await this.refresh();
    } catch (err) {
      if (entry && now - entry.fetchedAt < STALE_MS) {
        this.logger.warn(`Serving a stale model list: ${err instanceof OpenRouterError ? err.code : 'error'}`);
        return entry;
      }
      throw GatewayErrors.modelsUnavailable();
    }
  }

  private refresh(): Promise<Entry> {
    this.inFlight ??= this.client
      .listModels()
      .then((list) => (this.entry = { json: JSON.stringify(list), byId: null, list, fetchedAt: Date.now() }))
      .finally(() => (this.inFlight = null));
    return this.inFlight;
  }
}

function indexById(list: unknown): Map<string, string> {
  const byId = new Map<string, string>();
  const data = (list as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) return byId;
  for (const model of data as { id?: unknown }[]) {
    if (typeof model?.id === 'string') byId.set(model.id, JSON.stringify(model));
  }
  return byId;
}
