import { Module } from '@nestjs/common';
import { ClerkProfileClient } from './clerk-profile.client';

/** Clerk's Backend API (profile lookups); the claim and payload mappings are plain functions. */
@Module({
  providers: [ClerkProfileClient],
  exports: [ClerkProfileClient],
})
export class ClerkModule {}
