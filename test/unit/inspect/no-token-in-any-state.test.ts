/**
 * R13 in every state: each generated lifecycle path (token-lifecycle/testing: every state and every
 * transition of the machine) runs on a manager with an inspector and an event listener; no token
 * value the path handed in or the simulated endpoint issued shows in any inspection event, manager
 * event or status on the way.
 */
import type { InspectionEvent } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createTokenManager, type TokenEvent } from '../../../index.js';
import { lifecyclePaths } from '../../../testing/index.js';
import { observableText } from '../../support/lifecycle-helpers.js';

/** The kit's token values: `at-3`, `rt-3` from the endpoint, `at-set-1`, `rt-seed-2` from the path. */
const TOKEN_VALUE = /\b(at|rt)-(set-|seed-)?\d+\b/;

describe('no token value in inspection, events or status, in any state', () => {
  const paths = [...lifecyclePaths(), ...lifecyclePaths({ cover: 'transitions' })];

  it('holds on every generated path', async () => {
    const leaks: string[] = [];
    let seen = 0;
    for (const path of paths) {
      const inspected: InspectionEvent[] = [];
      const events: TokenEvent[] = [];
      const statuses: unknown[] = [];
      const harness = await path.run(
        (options) => {
          const manager = createTokenManager({ ...options, inspect: (event) => void inspected.push(event) });
          manager.subscribe((event) => events.push(event));
          return manager;
        },
        { onStep: (_step, h) => void statuses.push(h.manager.status(h.key)) },
      );
      await harness.dispose();
      seen += inspected.length + events.length + statuses.length;
      const text = observableText({ inspected, events, statuses });
      const found = TOKEN_VALUE.exec(text);
      if (found) leaks.push(`${path.name}: ${found[0]}`);
    }
    expect(leaks).toEqual([]);
    // The check read something: hundreds of paths, each with inspection events.
    expect(seen).toBeGreaterThan(paths.length * 10);
  });

  it('the check finds a token value where there is one', () => {
    expect(TOKEN_VALUE.test(observableText({ events: [{ type: 'refreshed', note: 'at-12' }] }))).toBe(true);
    expect(TOKEN_VALUE.test(observableText({ record: { refreshToken: 'rt-seed-2' } }))).toBe(true);
    expect(TOKEN_VALUE.test(observableText({ at: 1_893_456_000_000, state: 'valid' }))).toBe(false);
  });
});
