import { useEffect, useMemo } from 'react';
import { useRedirectLogin, useTokenManager } from '../../adapters/frameworks/react/index.js';
import { CREDENTIALS, errorText, loginOptions, USER, type ExampleConfig } from '../frameworks/example-config.js';
import { ApiButton } from './ApiButton.js';
import { Controls } from './Controls.js';
import { LiveView } from './LiveView.js';
import { StatusBadge } from './StatusBadge.js';

declare global {
  interface Window {
    pageReady?: boolean;
    /** How often App's mount effect ran: 2 in a development build under StrictMode, else 1. */
    appMounts?: number;
  }
}

export function App({ config }: { readonly config: ExampleConfig }) {
  const manager = useTokenManager();
  // Stable options: the hook reads them once per callback URL.
  const options = useMemo(() => ({ ...loginOptions(config), key: USER }), [config]);
  const login = useRedirectLogin(options);

  useEffect(() => {
    // The code and state leave the address bar (and the history) once the callback is handled.
    if (login.status === 'done' || login.status === 'error') history.replaceState(null, '', location.pathname);
  }, [login.status]);
  useEffect(() => {
    window.appMounts = (window.appMounts ?? 0) + 1;
    window.pageReady = true;
  }, []);

  return (
    <>
      <header>
        <h1>token-lifecycle in React</h1>
        <p>
          Redirect login (<code>useRedirectLogin</code>), a badge per credential (<code>useTokenState</code>), a
          protected API through <code>useAuthFetch</code>, and the lifecycle machine live. Tokens appear as
          fingerprints (first 8 hex digits of their SHA-256) only.
        </p>
      </header>
      <nav>
        <button data-testid="login" onClick={() => void login.login()}>Log in (redirect)</button>
        <ApiButton url={config.apiUrl} credential={USER} />
        <button data-testid="logout" onClick={() => void manager.remove(USER)}>Log out (revoke)</button>
      </nav>
      {config.controls ? <Controls /> : null}
      <p data-testid="login-status" className="error">
        {login.status === 'completing' ? 'completing the login…' : login.status === 'error' ? errorText(login.error) : ''}
      </p>
      <section className="badges">
        {CREDENTIALS.map((credential) => (
          <StatusBadge key={credential} credential={credential} />
        ))}
      </section>
      <LiveView credential={USER} />
    </>
  );
}
