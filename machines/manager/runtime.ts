import type { Callbacks } from './callbacks.js';
import type { Credential } from './credential.js';
import type { ManagerSettings } from './options.js';
import type { TokenEvent } from './api-types.js';

/** What the manager's parts share: settings, event emission, and the credentials' lifecycle hooks. */
export interface ManagerRuntime {
  readonly settings: ManagerSettings;
  /** Names this manager in the refresh markers it writes to a shared store. */
  readonly instanceId: string;
  emit(event: TokenEvent): void;
  /** A newer record was adopted from storage outside a refresh: let the machine re-evaluate. */
  recordAdopted(credential: Credential): void;
  isStopped(): boolean;
}

/** The runtime plus the state every part of one manager reads: its credentials and whether it stopped. */
export interface ManagerCore extends ManagerRuntime {
  readonly credentials: Map<string, Credential>;
  /** The user's callbacks run through this: their failures go to `onError` (callbacks.ts). */
  readonly callbacks: Callbacks;
  stopped: boolean;
  now(): number;
  /** Throws `stopped` once stop() has begun. */
  assertRunning(): void;
  /**
   * Told after a record was admitted (a login, a load, an adoption from storage): derive.ts follows
   * parents' tokens through it. Set once the first credential is derived; absent before.
   */
  onAdmitted?: ((credential: Credential) => void) | undefined;
}
