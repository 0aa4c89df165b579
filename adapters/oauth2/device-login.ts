/**
 * `deviceLogin(options)`: the device authorization grant (RFC 8628). The user opens
 * `verification_uri` on any device and enters `user_code`; meanwhile this polls the token endpoint at
 * the server's `interval`. Browser-safe (R16): fetch and timers only.
 */
import { ExpiredTokenError, InvalidConfigError, LoginFailedError, TokenLifecycleError } from '../../machines/lifecycle/errors.js';
import type { Clock } from '../../machines/lifecycle/types.js';
import { jsonObject, loginClient, type LoginClientOptions, type LoginTokenResponse } from './login-client.js';
import { tokenErrorFor } from './error-response.js';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** What the user must see to log in (RFC 8628 §3.3). */
export interface DevicePrompt {
  readonly verificationUri: string;
  /** The URI with the code in it (for a link or QR code), when the server gives one. */
  readonly verificationUriComplete?: string;
  readonly userCode: string;
  /** Epoch ms (from the clock) after which the code is dead. */
  readonly expiresAt: number;
  /** Milliseconds between polls, as the server asked (default 5 s). */
  readonly interval: number;
}

export interface DeviceLoginOptions extends LoginClientOptions {
  /** Called once the server has issued the codes: show them to the user. */
  onPrompt(prompt: DevicePrompt): void;
  /** Device authorization endpoint; default: discovered (`device_authorization_endpoint`). */
  deviceAuthorizationUrl?: string;
  /** Injected time for the polling (tests); default the system clock. */
  clock?: Clock;
}

const DEFAULT_INTERVAL_MS = 5_000;
/** RFC 8628 §3.5: `slow_down` adds 5 seconds to the interval, for this and all later polls. */
const SLOW_DOWN_STEP_MS = 5_000;
/** A transient failure (network, 5xx) doubles the interval (RFC 8628 §3.5 "exponential backoff"), up to this. */
const MAX_INTERVAL_MS = 60_000;

const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

interface DeviceAuthorization {
  readonly deviceCode: string;
  readonly prompt: DevicePrompt;
}

/**
 * Resolves to the token response once the user approved. Rejects with `access_denied` (the user
 * refused), `expired_token` (the code died first), the server's other codes as typed errors, or the
 * signal's reason when aborted.
 */
export async function deviceLogin(options: DeviceLoginOptions): Promise<LoginTokenResponse> {
  if (typeof options?.onPrompt !== 'function') throw new InvalidConfigError('deviceLogin needs onPrompt, to show the user the code');
  const client = loginClient(options);
  const { signal } = options;
  const clock = options.clock ?? systemClock;
  signal?.throwIfAborted();

  const authorization = await authorize(client, options, clock);
  options.onPrompt(authorization.prompt);

  let interval = authorization.prompt.interval;
  const params = new URLSearchParams({ grant_type: DEVICE_CODE_GRANT, device_code: authorization.deviceCode });
  for (;;) {
    await sleep(clock, interval, signal);
    if (clock.now() >= authorization.prompt.expiresAt) throw new ExpiredTokenError();
    try {
      return await client.requestToken(params, signal);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      const code = error instanceof TokenLifecycleError ? error.code : undefined;
      if (code === 'authorization_pending') continue;
      if (code === 'slow_down') interval += SLOW_DOWN_STEP_MS;
      else if (error instanceof TokenLifecycleError && error.retryable) interval = Math.min(interval * 2, MAX_INTERVAL_MS);
      else throw error;
    }
  }
}

/** RFC 8628 §3.1–3.2: the device authorization request and its checked response. */
async function authorize(client: ReturnType<typeof loginClient>, options: DeviceLoginOptions, clock: Clock): Promise<DeviceAuthorization> {
  const { signal } = options;
  const url = await client.endpointUrl('device_authorization_endpoint', options.deviceAuthorizationUrl, signal);
  const params = new URLSearchParams();
  if (options.scope !== undefined) params.set('scope', options.scope);
  const sentAt = clock.now();
  const { response, assertion } = await client.postForm(url, params, signal);
  if (response.status < 200 || response.status >= 300) {
    throw client.explainRefusal(tokenErrorFor(response, [client.config.client.clientSecret, assertion]), assertion);
  }
  const body = jsonObject(response);

  const { device_code: deviceCode, user_code: userCode, verification_uri: uri, verification_uri_complete: complete } = body;
  if (!isNonEmpty(deviceCode)) throw malformed('device_code');
  if (!isNonEmpty(userCode)) throw malformed('user_code');
  if (!isNonEmpty(uri) || !isWebUrl(uri)) throw malformed('verification_uri');
  const expiresIn = Number(body.expires_in);
  if (!Number.isFinite(expiresIn) || expiresIn <= 0) throw malformed('expires_in');
  const intervalSeconds = body.interval === undefined ? undefined : Number(body.interval);
  if (intervalSeconds !== undefined && (!Number.isFinite(intervalSeconds) || intervalSeconds < 0)) throw malformed('interval');

  return {
    deviceCode,
    prompt: {
      verificationUri: uri,
      ...(isNonEmpty(complete) && isWebUrl(complete) ? { verificationUriComplete: complete } : {}),
      userCode,
      expiresAt: sentAt + expiresIn * 1000,
      interval: intervalSeconds === undefined ? DEFAULT_INTERVAL_MS : intervalSeconds * 1000,
    },
  };
}

function malformed(field: string): LoginFailedError {
  return new LoginFailedError(`the device authorization response has no valid ${field} (RFC 8628 §3.2)`);
}

function isNonEmpty(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/** Only http(s) links are shown to a user: never `javascript:` or other schemes. */
function isWebUrl(value: string): boolean {
  return URL.canParse(value) && /^https?:$/.test(new URL(value).protocol);
}

/** Waits `ms` on the clock; an abort rejects at once with the signal's reason. */
function sleep(clock: Clock, ms: number, signal: AbortSignal | undefined): Promise<void> {
  signal?.throwIfAborted();
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      reject(signal?.reason);
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
