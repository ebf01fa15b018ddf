import { Injectable, Logger } from '@nestjs/common';
import axios from 'axios';
import { AppConfig } from '#libs/config';

export interface ClerkProfile {
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  imageUrl: string | null;
}

interface ClerkUserResponse {
  primary_email_address_id?: string | null;
  email_addresses?: { id: string; email_address: string }[];
  first_name?: string | null;
  last_name?: string | null;
  image_url?: string | null;
}

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
      const res = await axios.get<ClerkUserResponse>(
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
      const u = res.data;
      const primary = u.email_addresses?.find((e) => e.id === u.primary_email_address_id) ?? u.email_addresses?.[0];
      return {
        email: primary?.email_address ?? null,
        firstName: u.first_name ?? null,
        lastName: u.last_name ?? null,
        imageUrl: u.image_url ?? null,
      };
    } catch (err) {
      this.logger.warn(`Clerk profile lookup for ${clerkUserId} failed: ${(err as { code?: string }).code ?? 'error'}`);
      return null;
    }
  }
}
