import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../../machines/lifecycle/duration.js';
import { InvalidConfigError, TokenLifecycleError } from '../../../machines/lifecycle/errors.js';
import type { Duration } from '../../../machines/lifecycle/types.js';

describe('parseDuration (R1 durations)', () => {
  it.each<[Duration, number]>([
    [0, 0],
    [500, 500],
    [1.5, 1.5],
    ['0', 0],
    ['250', 250],
    ['500ms', 500],
    ['90s', 90_000],
    ['1.5m', 90_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['2d', 172_800_000],
    ['.5s', 500],
    ['  5m  ', 300_000],
    ['5 m', 300_000],
    ['\t90s\n', 90_000],
    ['10S', 10_000],
    ['40d', 40 * 86_400_000],
  ])('accepts %j as %d ms', (input, expected) => {
    expect(parseDuration(input)).toBe(expected);
  });

  it.each<[unknown]>([
    [-1],
    ['-1'],
    [Number.NaN],
    [Number.POSITIVE_INFINITY],
    [Number.NEGATIVE_INFINITY],
    ['soon'],
    [''],
    ['   '],
    ['5x'],
    ['5 mins'],
    ['1e3'],
    ['1.'],
    ['m'],
    ['NaN'],
    ['Infinity'],
    ['9'.repeat(400)],
    [null],
    [undefined],
    [{}],
    [[5]],
    [true],
  ])('rejects %j with invalid_config', (input) => {
    let caught: unknown;
    try {
      parseDuration(input as Duration);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidConfigError);
    expect(caught).toBeInstanceOf(TokenLifecycleError);
    expect((caught as InvalidConfigError).code).toBe('invalid_config');
  });

  it('names the setting in the message', () => {
    expect(() => parseDuration('soon', 'refreshThreshold')).toThrow(/refreshThreshold/);
    expect(() => parseDuration(-5, 'retry.minDelay')).toThrow(/retry\.minDelay/);
  });
});
