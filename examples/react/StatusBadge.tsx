import { useEffect, useState } from 'react';
import { useAccessToken, useTokenState } from '../../adapters/frameworks/react/index.js';
import { fingerprint } from '../browser/fingerprint.js';
import { secondsUntil } from '../frameworks/example-config.js';

/** The clock, for the countdowns only: the badge's view itself changes with the credential. */
function useNow(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

function useFingerprint(token: string | undefined): string | undefined {
  const [shown, setShown] = useState<string>();
  useEffect(() => {
    let active = true;
    if (token === undefined) setShown(undefined);
    else void fingerprint(token).then((value) => active && setShown(value));
    return () => {
      active = false;
    };
  }, [token]);
  return shown;
}

/** One credential: its state, time to refresh and to expiry, last error code, and the token's fingerprint. */
export function StatusBadge({ credential }: { readonly credential: string }) {
  const view = useTokenState(credential);
  const { token } = useAccessToken(credential);
  const now = useNow(500);
  const usable = view.state !== 'idle' && view.state !== 'reauthRequired';
  const shown = useFingerprint(usable ? token?.accessToken : undefined);
  return (
    <div className="badge" data-testid={`badge-${credential}`} data-state={view.state}>
      <code className="key">{credential}</code>
      <strong data-testid="badge-state">{view.detail ? `${view.state}.${view.detail}` : view.state}</strong>
      <span>refresh in <b data-testid="badge-refresh-in">{usable ? secondsUntil(view.refreshAt, now) : '—'}</b></span>
      <span>expires in <b data-testid="badge-expires-in">{secondsUntil(view.expiresAt, now, 'expired')}</b></span>
      <span>last error <b data-testid="badge-error">{view.lastError?.code ?? '—'}</b></span>
      <span>token <code data-testid="badge-token">{shown ?? '—'}</code></span>
    </div>
  );
}
