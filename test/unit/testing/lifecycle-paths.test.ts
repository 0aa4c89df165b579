/**
 * lifecyclePaths(): paths generated from the lifecycle machine that put a real manager into every
 * state, with descriptions, and `path.run()` that drives a harness and checks it at every step.
 */
import { describe, expect, it } from 'vitest';
import { createTokenManager, type TokenManagerOptions } from '../../../index.js';
import { LifecyclePathError, lifecycleHarness, lifecyclePaths, type LifecyclePath } from '../../../testing/index.js';

const RESTING = ['idle', 'valid', 'nearExpiry', 'refreshing', 'degraded.retrying', 'degraded.rejected', 'degraded.expired', 'reauthRequired'];
const targetOf = (path: LifecyclePath): string => (path.target.detail ? `${path.target.state}.${path.target.detail}` : path.target.state);

describe('lifecyclePaths', () => {
  const paths = lifecyclePaths();
  console.log(`lifecyclePaths(): ${paths.length} paths for the default machine (backgroundRefresh true)`);

  it('reaches every state and sub-state the manager can rest in, each path with a unique name', () => {
    expect(new Set(paths.map(targetOf))).toEqual(new Set(RESTING));
    expect(new Set(paths.map((p) => p.name)).size).toBe(paths.length);
  });

  it('describes a path by the states it goes through (passing ones too), and each step in words', () => {
    const path = lifecyclePaths({ cover: 'transitions' }).find((p) => p.description === 'nearExpiry → refreshing → degraded (expired)');
    expect(path?.steps.map((s) => [s.description, s.to, s.rests])).toEqual([
      ['stored by another process: an expired token', 'nearExpiry', false],
      ['timer: the background refresh starts', 'refreshing', true],
      ['the refresh fails (503), retry in 30 s', 'degraded.expired', true],
    ]);
    expect(path?.target).toEqual({ state: 'degraded', detail: 'expired' });
    expect(path?.name).toBe(`${path?.description} (${path?.steps.map((s) => s.description).join(', ')})`);
  });

  it('every path leaves the manager in its target, resting where its steps say', async () => {
    for (const path of paths) {
      const seen: string[] = [];
      const harness = await path.run(undefined, {
        onStep: (step, h) => {
          const status = h.manager.status(h.key);
          expect(status.detail ? `${status.state}.${status.detail}` : status.state).toBe(step.to);
          seen.push(step.to);
        },
      });
      const status = harness.manager.status(harness.key);
      expect({ state: status.state, ...(status.detail ? { detail: status.detail } : {}) }, path.name).toEqual(path.target);
      expect(seen, path.name).toEqual(path.steps.filter((s) => s.rests).map((s) => s.to));
      expect(harness.endpoint.hanging, path.name).toBe(path.target.state === 'refreshing' ? 1 : 0);
      await harness.dispose();
    }
  });

  it('keeps only the paths ending in the targets asked for; degraded takes its sub-states', () => {
    const chosen = lifecyclePaths({ targets: ['degraded', 'reauthRequired'] });
    expect(new Set(chosen.map(targetOf))).toEqual(new Set(['degraded.retrying', 'degraded.rejected', 'degraded.expired', 'reauthRequired']));
    expect(chosen).toHaveLength(paths.filter((p) => p.target.state === 'degraded' || p.target.state === 'reauthRequired').length);
    expect(new Set(lifecyclePaths({ targets: ['degraded.expired'] }).map(targetOf))).toEqual(new Set(['degraded.expired']));
  });

  it('refuses an unknown target or cover', () => {
    expect(() => lifecyclePaths({ targets: ['broken' as never] })).toThrow(/unknown target state broken/);
    expect(() => lifecyclePaths({ cover: 'all' as never })).toThrow(TypeError);
  });

  it('a path ending in refreshing leaves the request in flight until the test answers it', async () => {
    const path = paths.find((p) => p.target.state === 'refreshing') as LifecyclePath;
    const harness = await path.run();
    const token = harness.manager.getToken(harness.key);
    expect(harness.endpoint.answer()).toBe(true);
    expect((await token).accessToken).toBe(harness.endpoint.lastAccessToken);
    await harness.dispose();
  });

  it('runs on a manager the app makes from the options it is given, with its own options added', async () => {
    const reauth: string[] = [];
    const made: TokenManagerOptions[] = [];
    const path = paths.find((p) => p.target.state === 'reauthRequired' && p.steps.some((s) => s.label.startsWith('error:permanent'))) as LifecyclePath;
    const harness = await path.run((options) => {
      made.push(options);
      return createTokenManager({ ...options, onReauthRequired: (key, reason) => reauth.push(`${key}:${reason}`) });
    }, { key: 'api' });
    expect(made[0]?.clock).toBe(harness.clock);
    expect(made[0]?.endpoint).toBe(harness.endpoint);
    expect(reauth).toEqual(['api:invalid_grant']);
    await harness.dispose();
  });

  it('says where a manager with other timing settings departs from the paths', async () => {
    // A 10-minute threshold opens the refresh window 5 minutes before the paths assume it does.
    const failures: string[] = [];
    for (const path of lifecyclePaths({ cover: 'transitions', targets: ['valid', 'nearExpiry'] })) {
      await path.run((options) => createTokenManager({ ...options, refreshThreshold: '10m' })).then(
        (harness) => harness.dispose(),
        (error: unknown) => failures.push(error instanceof LifecyclePathError ? error.message : `not a LifecyclePathError: ${String(error)}`),
      );
    }
    expect(failures.length).toBeGreaterThan(0);
    for (const failure of failures) expect(failure).toMatch(/^.+: step \d+ \(.+ in \w+(\.\w+)?\): /);
  });

  it('refuses a harness with the other backgroundRefresh setting, or one already used', async () => {
    const path = paths.find((p) => p.target.state === 'valid') as LifecyclePath;
    await expect(path.run(lifecycleHarness({ backgroundRefresh: false }))).rejects.toThrow(/backgroundRefresh/);
    const used = await path.run();
    await expect(path.run(used)).rejects.toThrow(/fresh harness/);
    await used.dispose();
  });

  it('generates paths for backgroundRefresh false, which run on a harness made with it', async () => {
    const manual = lifecyclePaths({ backgroundRefresh: false, targets: ['degraded.expired'] });
    expect(manual.length).toBeGreaterThan(0);
    for (const path of manual) {
      expect(path.backgroundRefresh).toBe(false);
      const harness = await path.run(lifecycleHarness({ backgroundRefresh: false }));
      expect(harness.manager.status(harness.key)).toMatchObject({ state: 'degraded', detail: 'expired' });
      await harness.dispose();
    }
  });
});
