/** A login's tokens coming in (`setToken`) and a logout (`remove`, RFC 7009 revocation first). */
import { withoutSecrets } from '../lifecycle/secret-values.js';
import type { Actors } from './actors.js';
import { createCredential, setRecord, viewFor, type Credential } from './credential.js';
import { InvalidConfigError, NotFoundError, RevocationFailedError, StorageFailedError, TokenLifecycleError } from '../lifecycle/errors.js';
import type { RemoveOptions } from './api-types.js';
import type { Loading } from './loading.js';
import { cancelWriteRetry } from './persistence.js';
import type { ManagerCore } from './runtime.js';
import { checkTokenInput } from '../lifecycle/token-response.js';
import type { TokenResponse, TokenSet } from '../lifecycle/types.js';

function storageFailure(error: unknown, message: string, key: string): TokenLifecycleError {
  return error instanceof TokenLifecycleError ? error : new StorageFailedError(message, { cause: error, key });
}

export function createSetAndRemove(core: ManagerCore, actors: Actors, loading: Loading) {
  const { credentials, settings, now } = core;
  const { storage, endpoint } = settings;

  async function setToken(key: string, tokens: TokenResponse | TokenSet): Promise<TokenSet> {
    core.assertRunning();
    if (typeof key !== 'string' || key.length === 0) throw new InvalidConfigError('setToken needs a non-empty string key');
    const checked = checkTokenInput(tokens, now(), { dpop: endpoint.dpop !== undefined });
    if (!checked.ok) throw checked.error;
    const c = credentials.get(key) ?? createCredential(key);
    const stored = await storage.get(key);
    const baseVersion = Math.max(stored?.version ?? 0, c.record?.version ?? 0);
    const { obtainedAt, ...values } = checked.tokens;
    const record = { ...values, obtainedAt, version: baseVersion + 1 };
    try {
      await storage.set(key, record, { expectedVersion: stored?.version ?? 0 });
    } catch (error) {
      throw storageFailure(error, 'Could not store the tokens', key);
    }
    core.assertRunning();
    credentials.set(key, c);
    loading.followStorage();
    cancelWriteRetry(core, c);
    c.loaded = true;
    c.removed = false;
    c.reauthAnnounced = false;
    c.lastFailure = undefined;
    setRecord(c, record);
    c.storedVersion = record.version;
    actors.admit(c);
    return viewFor(c) as TokenSet;
  }

  async function revoke(key: string, c: Credential | undefined): Promise<void> {
    const record = c?.record;
    const token = record && (record.refreshToken ?? record.accessToken);
    if (!record || !token) return;
    if (!endpoint.revoke) {
      throw new RevocationFailedError('The endpoint cannot revoke tokens; pass { revoke: false } to delete without revoking', { key });
    }
    try {
      await endpoint.revoke(token, { hint: record.refreshToken ? 'refresh_token' : 'access_token' });
    } catch (error) {
      const failure = error instanceof RevocationFailedError ? error : new RevocationFailedError('Token revocation failed', { cause: error, key });
      // A server may echo the token it was sent, or another it issued: none is passed on (R13).
      throw withoutSecrets(failure, [record.accessToken, record.refreshToken, record.idToken]);
    }
  }

  async function remove(key: string, options: RemoveOptions = {}): Promise<void> {
    core.assertRunning();
    let c: Credential | undefined;
    try {
      c = await loading.load(key);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
    if (options.revoke ?? true) await revoke(key, c);
    try {
      await storage.delete(key);
    } catch (error) {
      throw storageFailure(error, 'Could not delete the tokens', key);
    }
    if (c) {
      c.removed = true;
      c.loaded = false;
      cancelWriteRetry(core, c);
      setRecord(c, undefined);
      c.storedVersion = 0;
      actors.forgetDormant(c);
      // Waiters (of a live, refreshing actor) are released by its move to `idle`.
      c.actor?.send({ type: 'UNLOAD' });
      forget(c);
    }
  }

  /**
   * A removed credential leaves the manager (users who log in and out must not grow it): what still
   * holds it (a refresh in flight, a write retry, a waiter) finds it `removed` and lets go. One whose
   * actor a caller asked for (`actor(key)`) stays, idle, so that actor keeps telling the truth.
   */
  function forget(c: Credential): void {
    if (c.pinned || credentials.get(c.key) !== c) return;
    credentials.delete(c.key);
    c.actor?.stop();
    c.actor = undefined;
  }

  return { setToken, remove };
}
