import fc from 'fast-check';
import type { ChaosAction } from './chaos-engine.js';

const keys = fc.constantFrom('a', 'b');
const faults = fc.constantFrom(
  'http503',
  'http429',
  'network',
  'invalid_grant',
  'malformed_rotated',
  'malformed_plain',
  'expired_on_arrival',
) as fc.Arbitrary<'http503'>;

/** Random actions, weighted towards what exercises the lifecycle: time passing and callers. */
export const chaosAction: fc.Arbitrary<ChaosAction> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.constantFrom(0, 500, 1_000, 30_000, 290_000, 1_800_000, 3_600_000) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('getToken' as const), key: keys }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('refresh' as const), key: keys }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('login' as const),
      key: keys,
      withRefreshToken: fc.boolean(),
      expiresIn: fc.constantFrom(0, 5, 300, 3600),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), key: keys }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('fault' as const), fault: faults }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('storage' as const), failWrites: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('wipe' as const), key: keys }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('stopMidRefresh' as const), key: keys }) },
);
