import { TokenLifecycleError } from '../../machines/lifecycle/errors.js';

/** The typed error a promise rejects with; anything else (a fulfilment, a plain Error) fails the test. */
export async function lifecycleRejection(promise: Promise<unknown>): Promise<TokenLifecycleError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof TokenLifecycleError)) throw new Error(`expected a TokenLifecycleError, got ${String(error)}`);
  return error;
}
