/**
 * A simulated world for the chaos suite: a rotating token server that detects reuse like a real one
 * (oidc-provider revokes the grant on reuse), a storage whose writes can fail, and invariant checks.
 * Every token value is a distinctive string, so a leak into events, errors or status is detectable.
 */
import { SimulatedClock } from 'xstate';
import { memoryStorage } from '../../machines/manager/memory-storage.js';
import { InvalidGrantError, RefreshFailedError, StorageFailedError } from '../../machines/lifecycle/errors.js';
import type { TokenEndpoint, TokenRecord, TokenStorage } from '../../machines/lifecycle/types.js';

export type Fault =
  | 'none'
  | 'http503'
  | 'http429'
  | 'network'
  | 'invalid_grant'
  | 'malformed_rotated'
  | 'malformed_plain'
  | 'expired_on_arrival';

interface Grant {
  newest: string;
  revoked: boolean;
  inFlight: number;
}

export class ChaosServer implements TokenEndpoint {
  readonly violations: string[] = [];
  readonly faultCounts = new Map<Fault, number>();
  refreshes = 0;
  private issued = 0;
  private readonly grants = new Map<string, Grant>();
  private readonly byToken = new Map<string, Grant>();
  private nextFault: Fault = 'none';
  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;
  /** Refreshes that waited at the gate. */
  held = 0;
  expiresIn = 3600;

  constructor(private readonly clock: SimulatedClock) {}

  /** A new login: a new grant with its first refresh token. */
  login(withRefreshToken: boolean, expiresIn: number): Record<string, unknown> {
    const body: Record<string, unknown> = { access_token: this.secret('AT'), token_type: 'Bearer', expires_in: expiresIn };
    if (withRefreshToken) {
      const rt = this.secret('RT');
      const grant = { newest: rt, revoked: false, inFlight: 0 };
      this.grants.set(rt, grant);
      this.byToken.set(rt, grant);
      body.refresh_token = rt;
    }
    return body;
  }

  inject(fault: Fault): void {
    this.nextFault = fault;
  }

  /** A slow server: the next refresh waits, before the server looks at it, until `release()`. */
  holdNext(): void {
    this.gate = new Promise((resolve) => (this.openGate = resolve));
  }

  /** Lets a held refresh go on (and disarms a gate no refresh reached). */
  release(): void {
    this.openGate?.();
    this.gate = undefined;
    this.openGate = undefined;
  }

  /** Whether `rt` is the newest refresh token of a live grant (what the server accepts next). */
  accepts(rt: string | undefined): boolean {
    const grant = rt === undefined ? undefined : this.byToken.get(rt);
    return grant !== undefined && !grant.revoked && grant.newest === rt;
  }

  isRevoked(rt: string | undefined): boolean {
    return rt !== undefined && this.byToken.get(rt)?.revoked === true;
  }

  private secret(kind: string): string {
    this.issued++;
    return `SECRET-${kind}-${this.issued.toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
  }

  async refresh(refreshToken: string | undefined): Promise<unknown> {
    const inFlightGrant = refreshToken === undefined ? undefined : this.byToken.get(refreshToken);
    if (inFlightGrant) inFlightGrant.inFlight++;
    try {
      if (inFlightGrant && inFlightGrant.inFlight > 1) this.violations.push('two refreshes of one credential in flight at once');
      const gate = this.gate;
      this.gate = undefined;
      if (gate) {
        this.held++;
        await gate;
      }
      await Promise.resolve();
      const fault = this.nextFault;
      this.nextFault = 'none';
      if (fault !== 'none') this.faultCounts.set(fault, (this.faultCounts.get(fault) ?? 0) + 1);
      this.refreshes++;
      const grant = refreshToken === undefined ? undefined : this.byToken.get(refreshToken);
      if (!grant) {
        this.violations.push('refresh sent without a known refresh token');
        throw new InvalidGrantError({ status: 400 });
      }
      if (grant.revoked) {
        this.violations.push('a rejected refresh token was sent again');
        throw new InvalidGrantError({ status: 400 });
      }
      if (grant.newest !== refreshToken) {
        this.violations.push('a spent (rotated) refresh token was sent');
        grant.revoked = true; // reuse detection, as a real server does
        throw new InvalidGrantError({ status: 400 });
      }
      switch (fault) {
        case 'http503':
          throw new RefreshFailedError('down', { status: 503 });
        case 'http429':
          throw new RefreshFailedError('slow down', { status: 429, retryAfter: 30_000 });
        case 'network':
          throw new TypeError('fetch failed');
        case 'invalid_grant':
          grant.revoked = true;
          throw new InvalidGrantError({ status: 400 });
        case 'malformed_plain':
          return { token_type: 'Bearer', expires_in: this.expiresIn };
        default:
          break;
      }
      const rotated = this.secret('RT');
      grant.newest = rotated;
      this.byToken.set(rotated, grant);
      if (fault === 'malformed_rotated') return { access_token: '', token_type: 'Bearer', refresh_token: rotated };
      return {
        access_token: this.secret('AT'),
        token_type: 'Bearer',
        expires_in: fault === 'expired_on_arrival' ? 0 : this.expiresIn,
        refresh_token: rotated,
      };
    } finally {
      if (inFlightGrant) inFlightGrant.inFlight--;
    }
  }

  async revoke(token: string): Promise<void> {
    const grant = this.byToken.get(token);
    if (grant) grant.revoked = true;
  }
}

/** A memory store whose writes can fail, and which records every version written per key. */
export function chaosStorage(clock: SimulatedClock, options: { sabotage?: 'keep-first-refresh-token' } = {}) {
  const inner = memoryStorage({ now: () => clock.now() });
  const control = { failWrites: false, violations: [] as string[], lastVersion: new Map<string, number>() };
  const storage: TokenStorage = {
    get: (key) => inner.get(key),
    async set(key, record: TokenRecord, setOptions) {
      if (control.failWrites) throw new StorageFailedError('ENOSPC: no space left on device');
      // A deliberately broken store, to prove the checks catch a lost rotated token.
      const stored = options.sabotage ? await inner.get(key) : undefined;
      const written = stored?.refreshToken ? { ...record, refreshToken: stored.refreshToken } : record;
      await inner.set(key, written, setOptions);
      const last = control.lastVersion.get(key) ?? 0;
      if (record.version <= last) control.violations.push(`storage went backwards for ${key}: ${last} -> ${record.version}`);
      control.lastVersion.set(key, record.version);
    },
    async delete(key) {
      control.lastVersion.delete(key);
      await inner.delete(key);
    },
    keys: () => inner.keys(),
    lock: (key, ttl) => inner.lock(key, ttl),
    subscribe: (listener) => inner.subscribe(listener),
  };
  return { storage, control, inner };
}

/** Every secret the server issued appears as `SECRET-…`: none may show up in what users see. */
export function findLeak(text: string): string | undefined {
  return /SECRET-(AT|RT)-/.exec(text)?.[0];
}
