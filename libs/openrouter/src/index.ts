export * from './client';
export * from './keys/openrouter-key.entity';
export * from './keys/openrouter-key-deletion.entity';
export * from './keys/openrouter-key.store';
export * from './keys/key-deletion.queue';
export * from './keys/openrouter-key.provisioner';
export * from './spend/key-spend.cache';
export * from './openrouter.module';
