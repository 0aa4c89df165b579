import { defineComponent, h, onMounted, ref, type PropType } from 'vue';
import type { TokenManager } from '../../index.js';
import { completeRedirectLogin, hasRedirectLoginResponse, redirectLogin } from '../../adapters/oauth2/index.js';
import { provideTokenManager } from '../../adapters/frameworks/vue/index.js';
import { CREDENTIALS, errorText, loginOptions, USER, type ExampleConfig } from '../frameworks/example-config.js';
import { ApiButton } from './ApiButton.js';
import { Controls } from './Controls.js';
import { LiveView } from './LiveView.js';
import { StatusBadge } from './StatusBadge.js';

declare global {
  interface Window {
    pageReady?: boolean;
  }
}

/** One completion per callback URL in this page, however often a component asks. */
const completions = new Map<string, Promise<void>>();

export const App = defineComponent({
  name: 'TokenLifecycleExample',
  props: {
    config: { type: Object as PropType<ExampleConfig>, required: true },
    manager: { type: Object as PropType<TokenManager>, required: true },
  },
  setup(props) {
    provideTokenManager(props.manager);
    const options = loginOptions(props.config);
    const loginLine = ref('');

    if (hasRedirectLoginResponse()) {
      const url = location.href;
      loginLine.value = 'completing the login…';
      let completion = completions.get(url);
      if (!completion) {
        completion = completeRedirectLogin({ ...options, url }).then(async (tokens) => {
          await props.manager.setToken(USER, tokens);
        });
        completions.set(url, completion);
      }
      completion
        .then(
          () => (loginLine.value = ''),
          (error: unknown) => (loginLine.value = errorText(error)),
        )
        // The code and state leave the address bar (and the history), whatever happened.
        .finally(() => history.replaceState(null, '', location.pathname));
    }
    onMounted(() => {
      window.pageReady = true;
    });

    const login = (): void => {
      redirectLogin(options).catch((error: unknown) => (loginLine.value = errorText(error)));
    };
    return () =>
      h('div', [
        h('header', [
          h('h1', 'token-lifecycle in Vue'),
          h('p', [
            'Redirect login, a badge per credential (',
            h('code', 'useTokenState'),
            '), a protected API through ',
            h('code', 'useAuthFetch'),
            ', and the lifecycle machine live. Tokens appear as fingerprints (first 8 hex digits of their SHA-256) only.',
          ]),
        ]),
        h('nav', [
          h('button', { 'data-testid': 'login', onClick: login }, 'Log in (redirect)'),
          h(ApiButton, { url: props.config.apiUrl, credential: USER }),
          h('button', { 'data-testid': 'logout', onClick: () => void props.manager.remove(USER) }, 'Log out (revoke)'),
        ]),
        props.config.controls ? h(Controls) : null,
        h('p', { 'data-testid': 'login-status', class: 'error' }, loginLine.value),
        h('section', { class: 'badges' }, CREDENTIALS.map((credential) => h(StatusBadge, { key: credential, credential }))),
        h(LiveView, { credential: USER }),
      ]);
  },
});
