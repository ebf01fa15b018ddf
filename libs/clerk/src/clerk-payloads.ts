import { AppError } from '#libs/common';

/**
 * Clerk's user, organization and membership objects, as its webhooks and its Backend API send them
 * (https://clerk.com/docs/webhooks), and their mapping to what this service stores: one place for
 * Clerk's shapes, so that login, profile lookups and webhooks read them the same way.
 */
export interface ClerkEvent {
  type: string;
  object?: string;
  data: Record<string, unknown>;
}

export interface ClerkUserData {
  id: string;
  email_addresses?: { id?: string; email_address?: string }[];
  primary_email_address_id?: string | null;
  first_name?: string | null;
  last_name?: string | null;
  image_url?: string | null;
  profile_image_url?: string | null;
}

export interface ClerkOrganizationData {
  id: string;
  name?: string | null;
  slug?: string | null;
}

export interface ClerkPublicUserData {
  user_id?: string;
  identifier?: string | null;
  first_name?: string | null;
  last_name?: string | null;
  image_url?: string | null;
}

export interface ClerkMembershipData {
  id?: string;
  role?: string | null;
  organization?: ClerkOrganizationData;
  public_user_data?: ClerkPublicUserData;
}

/** A user's profile fields, from whichever Clerk source had them. */
export interface ClerkProfile {
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  imageUrl: string | null;
}

export function primaryEmail(user: Pick<ClerkUserData, 'email_addresses' | 'primary_email_address_id'>): string | null {
  const list = Array.isArray(user.email_addresses) ? user.email_addresses : [];
  const primary = list.find((e) => e.id && e.id === user.primary_email_address_id) ?? list[0];
  const email = primary?.email_address;
  return typeof email === 'string' && email.includes('@') ? email.trim() : null;
}

/** A Clerk user object (webhook `user.*` data, or the Backend API's user). */
export function profileFromUser(data: ClerkUserData): ClerkProfile {
  return {
    email: primaryEmail(data),
    firstName: text(data.first_name),
    lastName: text(data.last_name),
    imageUrl: text(data.image_url) ?? text(data.profile_image_url),
  };
}

/** A membership event's `public_user_data` (the identifier is an email when it has an @). */
export function profileFromPublicUserData(data: ClerkPublicUserData): ClerkProfile {
  const identifier = typeof data.identifier === 'string' ? data.identifier.trim() : '';
  return {
    email: identifier.includes('@') ? identifier : null,
    firstName: text(data.first_name),
    lastName: text(data.last_name),
    imageUrl: text(data.image_url),
  };
}

/** An organization's id, display name (its slug or id when unnamed) and slug. */
export function organizationOf(data: ClerkOrganizationData): { id: string; name: string; slug: string | null } {
  const id = requireClerkOrgId(data.id);
  return { id, name: text(data.name) ?? text(data.slug) ?? id, slug: text(data.slug) };
}

export function requireClerkUserId(value: unknown): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_]{1,128}$/.test(value)) {
    throw new AppError('invalid_webhook_payload', 'The event names no valid Clerk user id');
  }
  return value;
}

export function requireClerkOrgId(value: unknown): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_]{1,128}$/.test(value)) {
    throw new AppError('invalid_webhook_payload', 'The event names no valid Clerk organization id');
  }
  return value;
}

/** A non-blank string, trimmed; null otherwise. */
export function text(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}
