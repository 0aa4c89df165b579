import { InvalidConfigError } from './errors.js';
import type { Duration } from './types.js';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h|d)?$/i;

/**
 * Parses a duration (DESIGN R1): a finite number of milliseconds ≥ 0, or `<number><unit>` with unit
 * ms|s|m|h|d; a bare numeric string is milliseconds. Anything else is `invalid_config`.
 */
export function parseDuration(value: Duration, name = 'duration'): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value;
    throw new InvalidConfigError(`${name} must be a finite number of milliseconds ≥ 0, got ${String(value)}`);
  }
  if (typeof value === 'string') {
    const match = DURATION.exec(value.trim());
    if (match) {
      const unit = (match[2] ?? 'ms').toLowerCase() as keyof typeof UNIT_MS;
      const ms = Number(match[1]) * UNIT_MS[unit];
      if (Number.isFinite(ms)) return ms;
    }
    throw new InvalidConfigError(`${name} must look like 500ms, 90s, 1.5m, 1h or 2d, got ${JSON.stringify(value)}`);
  }
  throw new InvalidConfigError(`${name} must be a number or a string, got ${typeof value}`);
}
