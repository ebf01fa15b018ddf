import { ValidateBy, ValidationOptions } from 'class-validator';

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/i;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * `YYYY-MM-DDTHH:MM[:SS[.fff]]` followed by `Z` or `±HH:MM`, naming a real instant (no 2030-02-31, no hour
 * 25). The basic format (`20300101T000000Z`) and zone-less times are refused: they parse differently, or not
 * at all, depending on who reads them. With `dateOnly`, a bare `YYYY-MM-DD` is accepted too.
 */
export function isIsoDateTime(value: unknown, opts: { dateOnly?: boolean } = {}): boolean {
  if (typeof value !== 'string' || value.length > 40) return false;
  const day = (opts.dateOnly && DATE_ONLY.exec(value)) || DATE_TIME.exec(value);
  if (!day) return false;
  const [, y, mo, d, h = '0', mi = '0', s = '0', zh = '0', zm = '0'] = day;
  if (+mo < 1 || +mo > 12 || +d < 1 || +h > 23 || +mi > 59 || +s > 59 || +zh > 23 || +zm > 59) return false;
  const daysInMonth = new Date(Date.UTC(+y, +mo, 0)).getUTCDate();
  return +d <= daysInMonth && Number.isFinite(Date.parse(DATE_ONLY.test(value) ? `${value}T00:00:00Z` : value));
}

/** class-validator decorator for {@link isIsoDateTime}. */
export function IsIsoDateTime(opts: { dateOnly?: boolean } = {}, validationOptions?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'isIsoDateTime',
      validator: {
        validate: (value) => isIsoDateTime(value, opts),
        defaultMessage: (args) =>
          `${args?.property} must be an ISO 8601 ${opts.dateOnly ? 'date or ' : ''}date-time with a time zone (e.g. 2030-01-01T00:00:00Z)`,
      },
    },
    validationOptions,
  );
}
