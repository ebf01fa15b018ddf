import { Injectable, Logger } from '@nestjs/common';
import axios from 'axios';
import { AppConfig } from '#libs/config';

import { ClerkProfile, ClerkUserData, profileFromUser } from './clerk-payloads';

/** Clerk's Backend API, read for a profile when the session token carries none. */
@Injectable()
export class ClerkProfileClient {
  private readonly logger = new Logger(ClerkProfileClient.name);

  constructor(private readonly config: AppConfig) {}

  get configured(): boolean {
    return Boolean(this.config.clerk.secretKey);
  }

  /** Null when not configured or Clerk fails: a login never fails for want of a profile. */
  async fetch(clerkUserId: string): Promise<ClerkProfile | null> {
    if (!this.configured) return null;
    try {
      const res = await axios.get<ClerkUserData>(
        `${this.config.clerk.apiUrl}/v1/users/${encodeURIComponent(clerkUserId)}`,
        {
          headers: { Authorization: `Bearer ${this.config.clerk.secretKey}` },
          timeout: 5000,
          validateStatus: () => true,
        },
      );
      if (res.status !== 200) {
        this.logger.warn(`Clerk profile lookup for ${clerkUserId} answered ${res.status}`);
        return null;
      }
      return profileFromUser(res.data);
    } catch (err) {
      this.logger.warn(`Clerk profile lookup for ${clerkUserId} failed: ${(err as { code?: string }).code ?? 'error'}`);
      return null;
    }
  }
}
