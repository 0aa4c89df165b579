/**
 * Words for generated paths: what each step does to the manager, and the states a path goes through
 * ("valid → nearExpiry → refreshing → degraded (retrying)"), for test titles and failure messages.
 */
import type { GeneratedPath } from './model/paths.js';
import { METAS, settable } from './model/palette.js';

const TOKENS: Readonly<Record<string, string>> = {
  fresh: 'a 1-hour token with a refresh token',
  freshNoRefreshToken: 'a 1-hour token without a refresh token',
  noExpiry: 'a token without expiry',
  inWindow: 'a token 2 minutes from expiry',
  expired: 'an expired token',
  expiredNoRefreshToken: 'an expired token without a refresh token',
  rejectedValid: 'a token valid 30 more minutes whose refresh token was rejected',
  rejectedExpired: 'an expired token whose refresh token was rejected',
  retryPending: 'a token 2 minutes from expiry, retry in 30 s',
  retryPendingExpired: 'an expired token, retry in 30 s',
};

const MOMENTS: Readonly<Record<string, string>> = {
  now: 'now',
  exp: 'the expiry',
  refreshAt: 'the refresh moment',
  retryAt: 'the retry moment',
  allowedAt: 'the end of the minimum refresh interval',
  later: 'an hour after the last moment',
};

const TIMERS: Readonly<Record<string, string>> = {
  untilRefreshWindow: 'timer: the refresh window opens',
  untilRefreshAllowed: 'timer: the background refresh starts',
  untilExpiry: 'timer: the token expires',
  untilRetry: 'timer: the retry starts',
};

const STALE: Readonly<Record<string, string>> = {
  ok: 'new tokens',
  invalid_grant: 'invalid_grant',
  refresh_failed: 'a 503',
};

function moment(when: string): string {
  const before = when.endsWith('-1');
  const name = before ? when.slice(0, -2) : when;
  const words = MOMENTS[name] ?? name;
  return before ? `1 ms before ${words}` : words;
}

/** What a step does, in words, from its model label. */
export function describeStep(label: string): string {
  const [main = label, staleAnswer] = label.split('|stale:');
  const stale = staleAnswer === undefined ? '' : ` (the abandoned refresh then answers ${STALE[staleAnswer] ?? staleAnswer})`;
  let m: RegExpExecArray | null;
  if ((m = /^LOADED:(\w+)$/.exec(main))) {
    const meta = m[1] as string;
    const values = METAS[meta];
    const how = values && settable({ ...values, version: 1 }) ? 'setToken' : 'stored by another process';
    return `${how}: ${TOKENS[meta] ?? meta}${stale}`;
  }
  if (main === 'UNLOAD') return `remove()${stale}`;
  if ((m = /^CHECK@(.+)$/.exec(main))) return `clock re-checked at ${moment(m[1] as string)}`;
  if ((m = /^REFRESH\(force\)@(.+)$/.exec(main))) return `refresh() at ${moment(m[1] as string)}`;
  if ((m = /^REFRESH@(.+)$/.exec(main))) return `getToken() at ${moment(m[1] as string)}`;
  if ((m = /^WAIT@(.+)$/.exec(main))) return `time passes to ${moment(m[1] as string)}`;
  if ((m = /^after:(\w+)$/.exec(main))) return TIMERS[m[1] as string] ?? `timer ${m[1]}`;
  if (main === 'done') return 'the refresh answers new tokens (rotated)';
  if ((m = /^error:permanent@(\w+)$/.exec(main))) {
    return `the refresh is rejected (invalid_grant)${m[1] === 'exp' ? ' at the expiry' : ''}`;
  }
  if ((m = /^error:transient@(\w+):retry@(.+)$/.exec(main))) {
    const at = m[1] === 'exp' ? ' at the expiry' : '';
    const retry = m[2] === 'exp+30s' ? 'retry 30 s after the expiry' : 'retry in 30 s';
    return `the refresh fails (503)${at}, ${retry}`;
  }
  return main;
}

/** `degraded.retrying` → `degraded (retrying)`. */
export function stateWords(leaf: string): string {
  const [state, detail] = leaf.split('.');
  return detail === undefined ? (state as string) : `${state} (${detail})`;
}

/** The states a path goes through (the manager's `state` events), in order, repeats merged; the initial `idle` is left out. */
export function describeStates(path: GeneratedPath): string {
  const states: string[] = [];
  for (const step of path.steps) {
    const words = stateWords(step.to);
    if (states[states.length - 1] !== words) states.push(words);
  }
  return states.length === 0 ? 'idle' : states.join(' → ');
}
