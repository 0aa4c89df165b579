/**
 * The React example (built by Vite; served by examples/browser/server.ts next to oidc-provider):
 * redirect login with `useRedirectLogin`, a status badge per credential, a protected API called
 * through `useAuthFetch`, and the browser example's offline live view as a component. StrictMode on.
 *
 *   npm run example:react      # builds with Vite, serves on loopback, prints the URL
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { TokenManagerProvider } from '../../adapters/frameworks/react/index.js';
import { errorText, exampleManager, loadConfig, USER } from '../frameworks/example-config.js';
import { actorObservers, countListeners } from '../frameworks/probe.js';
import { App } from './App.js';
import '../browser/style.css';
import '../frameworks/badge.css';

async function main(): Promise<void> {
  const config = await loadConfig();
  // Listeners counted for window.exampleProbe (the test checks that unmounting ends them all).
  const { manager, listeners } = countListeners(exampleManager(config, 'token-lifecycle-react-example'));
  // A session kept from before (webStorage, local area) resumes; a login replaces it.
  await manager.start();
  const container = document.getElementById('root');
  if (!container) throw new Error('no #root element');
  const root = createRoot(container);
  window.exampleProbe = { listeners, actorObservers: (key = USER) => actorObservers(manager, key), unmount: () => root.unmount() };
  root.render(
    <StrictMode>
      <TokenManagerProvider manager={manager}>
        <App config={config} />
      </TokenManagerProvider>
    </StrictMode>,
  );
}

main().catch((error: unknown) => {
  document.body.textContent = errorText(error);
});
