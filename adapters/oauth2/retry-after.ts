/** The last instant a JS `Date` can hold (ECMA-262 §21.4.1.22): a wait past it is out of range. */
const MAX_DATE_MS = 8.64e15;

/**
 * `Retry-After` (RFC 9110 §10.2.3): delta-seconds or an HTTP-date (RFC 9110 §5.6.7). Returns the wait
 * in milliseconds (never negative), or undefined when the value is absent, malformed, or names a
 * moment past what a `Date` can hold (treated as absent, docs/errors.md). The manager cuts what is
 * left to its ceiling (`retry.maxRetryAfter`, by default `retry.maxDelay`).
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) {
    const ms = Number(text) * 1000;
    return Number.isFinite(ms) && ms <= MAX_DATE_MS - now ? ms : undefined;
  }
  const at = parseHttpDate(text, now);
  return at === undefined || !Number.isFinite(at) || at > MAX_DATE_MS ? undefined : Math.max(0, at - now);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH = MONTHS.join('|');
const DAY = 'Mon|Tue|Wed|Thu|Fri|Sat|Sun';
const LONG_DAY = 'Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday';
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
// The three formats a recipient MUST accept (RFC 9110 §5.6.7); HTTP-dates are case-sensitive.
const IMF_FIXDATE = new RegExp(`^(?:${DAY}), (\\d{2}) (${MONTH}) (\\d{4}) ${TIME} GMT$`);
const RFC850 = new RegExp(`^(?:${LONG_DAY}), (\\d{2})-(${MONTH})-(\\d{2}) ${TIME} GMT$`);
const ASCTIME = new RegExp(`^(?:${DAY}) (${MONTH}) ( \\d|\\d{2}) ${TIME} (\\d{4})$`);

/** Epoch ms of an HTTP-date, or undefined. */
export function parseHttpDate(text: string, now: number = Date.now()): number | undefined {
  let match = IMF_FIXDATE.exec(text);
  if (match) return utc(match[3], match[2], match[1], match[4], match[5], match[6]);
  match = RFC850.exec(text);
  if (match) return utc(fullYear(Number(match[3]), now), match[2], match[1], match[4], match[5], match[6]);
  match = ASCTIME.exec(text);
  if (match) return utc(match[6], match[1], match[2], match[3], match[4], match[5]);
  return undefined;
}

/** RFC 9110 §5.6.7: a two-digit year more than 50 years ahead is the most recent past year with those digits. */
function fullYear(twoDigits: number, now: number): number {
  const current = new Date(now).getUTCFullYear();
  let year = Math.floor(current / 100) * 100 + twoDigits;
  if (year > current + 50) year -= 100;
  return year;
}

function utc(
  year: string | number | undefined,
  month: string | undefined,
  day: string | undefined,
  hours: string | undefined,
  minutes: string | undefined,
  seconds: string | undefined,
): number | undefined {
  const y = Number(year);
  const m = MONTHS.indexOf(month ?? '');
  const d = Number(day);
  const [h, min, s] = [Number(hours), Number(minutes), Number(seconds)];
  if (h > 23 || min > 59 || s > 60) return undefined; // 60: a leap second
  const at = Date.UTC(y, m, d, h, min, Math.min(s, 59));
  // Reject impossible days (Feb 30): Date.UTC would roll them over into the next month.
  return new Date(at).getUTCDate() === d ? at + (s === 60 ? 1000 : 0) : undefined;
}
