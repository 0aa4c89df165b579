/**
 * `manager.actor(key)` is `ActorRefFrom<typeof tokenMachine>` (DESIGN §8 "Typed actors"): the type
 * assertions are checked by `npm run typecheck` (tsc over test/), the values by vitest.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { ActorRefFrom, SnapshotFrom } from 'xstate';
import { createTokenManager, type TokenActor } from '../../../index.js';
import { tokenMachine, type TokenMachineContext, type TokenMachineEvent } from '../../../machines/index.js';
import { scriptedEndpoint } from '../../support/fake-endpoint.js';

describe('manager.actor(key)', () => {
  it('is the lifecycle machine\'s actor, typed from the machine', async () => {
    const manager = createTokenManager({ endpoint: scriptedEndpoint() });
    try {
      await manager.setToken('api', { access_token: 'at-1', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-1' });
      const actor = manager.actor('api');
      expectTypeOf(actor).toEqualTypeOf<ActorRefFrom<typeof tokenMachine>>();
      expectTypeOf(actor).toEqualTypeOf<TokenActor>();
      expectTypeOf(actor).not.toBeAny();
      const snapshot = actor.getSnapshot();
      expectTypeOf(snapshot).toEqualTypeOf<SnapshotFrom<typeof tokenMachine>>();
      expectTypeOf(snapshot.context).toEqualTypeOf<TokenMachineContext>();
      expectTypeOf(actor.send).parameter(0).toEqualTypeOf<TokenMachineEvent>();

      expect(snapshot.context.key).toBe('api');
      expect(snapshot.matches('valid')).toBe(true);
      expect(snapshot.context.token?.hasRefreshToken).toBe(true);
    } finally {
      await manager.stop();
    }
  });
});
