import { describe, expect, it } from 'vitest';
import { parseHttpDate, parseRetryAfter } from '../../../adapters/oauth2/retry-after.js';

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0); // Sun, 01 Jun 2025 12:00:00 GMT

describe('parseRetryAfter (RFC 9110 §10.2.3)', () => {
  it.each([
    ['0', 0],
    ['7', 7_000],
    ['120', 120_000],
    [' 30 ', 30_000],
  ])('delta-seconds %j → %d ms', (value, ms) => {
    expect(parseRetryAfter(value, NOW)).toBe(ms);
  });

  it('an IMF-fixdate in the future → the wait until then', () => {
    expect(parseRetryAfter('Sun, 01 Jun 2025 12:01:30 GMT', NOW)).toBe(90_000);
  });

  it('a date in the past → 0, never negative', () => {
    expect(parseRetryAfter('Sun, 01 Jun 2025 11:00:00 GMT', NOW)).toBe(0);
  });

  it('the obsolete RFC 850 and asctime formats are accepted too (RFC 9110 §5.6.7)', () => {
    expect(parseRetryAfter('Sunday, 01-Jun-25 12:00:10 GMT', NOW)).toBe(10_000);
    expect(parseRetryAfter('Sun Jun  1 12:00:20 2025', NOW)).toBe(20_000);
  });

  it.each([
    [undefined],
    [null],
    [''],
    ['soon'],
    ['1.5'],
    ['-1'],
    ['1e3'],
    ['sun, 01 jun 2025 12:01:30 gmt'], // HTTP-dates are case-sensitive
    ['Sun, 01 Jun 2025 12:01:30 UTC'],
    ['2025-06-01T12:01:30Z'],
    ['Fri, 30 Feb 2025 12:00:00 GMT'],
    ['Sun, 01 Jun 2025 24:00:00 GMT'],
    ['9'.repeat(400)],
  ])('%j is ignored (undefined)', (value) => {
    expect(parseRetryAfter(value, NOW)).toBeUndefined();
  });
});

describe('parseHttpDate', () => {
  it('reads a two-digit RFC 850 year as the most recent past year with those digits (> 50 years ahead)', () => {
    expect(parseHttpDate('Thursday, 01-Jan-70 00:00:00 GMT', NOW)).toBe(Date.UTC(2070, 0, 1));
    expect(parseHttpDate('Friday, 01-Jan-99 00:00:00 GMT', NOW)).toBe(Date.UTC(1999, 0, 1));
  });

  it('an asctime date with a two-digit day', () => {
    expect(parseHttpDate('Sun Nov 16 08:49:37 1994', NOW)).toBe(Date.UTC(1994, 10, 16, 8, 49, 37));
  });
});

describe('Retry-After out of range is absent (issue 22, case 6)', () => {
  const NOW_MS = Date.UTC(2026, 11, 7);
  it.each(['99999999999999999999', '9'.repeat(400), String(8.64e12)])('delta-seconds past the Date range: %s', (value) => {
    expect(parseRetryAfter(value, NOW_MS)).toBeUndefined();
  });

  it('a date within the range is read (the manager cuts it to its ceiling)', () => {
    expect(parseRetryAfter('Fri, 31 Dec 9999 23:59:59 GMT', NOW_MS)).toBe(Date.UTC(9999, 11, 31, 23, 59, 59) - NOW_MS);
  });
});
