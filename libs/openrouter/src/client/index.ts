export { OpenRouterClient } from './openrouter.client';
export { OpenRouterError, type OpenRouterErrorCode } from './openrouter.errors';
export {
  OPENROUTER_CLIENT_OPTIONS,
  type ChatCompletionOptions,
  type InferenceOptions,
  type InferencePath,
  type InferenceResponse,
  type CreatedKey,
  type CreateKeyInput,
  type LimitReset,
  type ListKeysInput,
  type OpenRouterClientOptions,
  type UpdateKeyInput,
  type UpstreamHeaders,
  type UpstreamKey,
  type UpstreamResponse,
} from './openrouter.types';
export { readKeySpend, spendOf, type KeySpend } from './key-usage';
