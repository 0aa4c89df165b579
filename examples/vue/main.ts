/**
 * The Vue example (built by Vite; served by examples/browser/server.ts next to oidc-provider):
 * redirect login, a status badge per credential (`useTokenState`), a protected API called through
 * `useAuthFetch`, and the browser example's offline live view as a component. Components are
 * `defineComponent` with render functions, so no SFC compiler is needed (and `tsc` checks them).
 *
 *   npm run example:vue        # builds with Vite, serves on loopback, prints the URL
 */
import { createApp } from 'vue';
import { errorText, exampleManager, loadConfig, USER } from '../frameworks/example-config.js';
import { actorObservers, countListeners } from '../frameworks/probe.js';
import { App } from './App.js';
import '../browser/style.css';
import '../frameworks/badge.css';

async function main(): Promise<void> {
  const config = await loadConfig();
  // Listeners counted for window.exampleProbe (the test checks that unmounting ends them all).
  const { manager, listeners } = countListeners(exampleManager(config, 'token-lifecycle-vue-example'));
  // A session kept from before (webStorage, local area) resumes; a login replaces it.
  await manager.start();
  const app = createApp(App, { config, manager });
  app.mount('#root');
  window.exampleProbe = { listeners, actorObservers: (key = USER) => actorObservers(manager, key), unmount: () => app.unmount() };
}

main().catch((error: unknown) => {
  document.body.textContent = errorText(error);
});
