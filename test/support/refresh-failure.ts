import type { RefreshFailure } from '../../machines/lifecycle/machine-types.js';

/** The RefreshFailure a refresh run rejected with (the refresh runner throws it, it does not return it). */
export async function failureOf(run: Promise<unknown>): Promise<RefreshFailure> {
  try {
    await run;
  } catch (failure) {
    return failure as RefreshFailure;
  }
  throw new Error('expected the refresh to fail');
}
