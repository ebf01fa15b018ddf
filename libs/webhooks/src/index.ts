import './webhooks.errors';
export * from './clerk/clerk-event.types';
export * from './clerk/clerk-webhook.processor';
export * from './clerk/svix-verifier';
export * from './webhooks.module';
