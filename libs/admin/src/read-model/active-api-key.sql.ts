/** A tenant API key usable now (a rotated key's revoked_at may lie in the future). */
export const ACTIVE_API_KEY_SQL = (k: string) =>
  `${k}.is_active AND (${k}.revoked_at IS NULL OR ${k}.revoked_at > now()) AND (${k}.expires_at IS NULL OR ${k}.expires_at > now())`;
