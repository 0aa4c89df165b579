import { defineComponent, h, onMounted, ref, watch, type PropType } from 'vue';
import type { TokenManager } from '../../index.js';
import { provideTokenManager, useRedirectLogin } from '../../adapters/frameworks/vue/index.js';
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

export const App = defineComponent({
  name: 'TokenLifecycleExample',
  props: {
    config: { type: Object as PropType<ExampleConfig>, required: true },
    manager: { type: Object as PropType<TokenManager>, required: true },
  },
  setup(props) {
    provideTokenManager(props.manager);
    const login = useRedirectLogin({ ...loginOptions(props.config), key: USER }, props.manager);
    // The code and state leave the address bar (and the history) once the callback is handled.
    watch(login.status, (status) => {
      if (status === 'done' || status === 'error') history.replaceState(null, '', location.pathname);
    });
    onMounted(() => {
      window.pageReady = true;
    });
    const startError = ref('');
    const start = (): void => {
      login.login().catch((error: unknown) => (startError.value = errorText(error)));
    };
    const loginLine = (): string =>
      login.status.value === 'completing' ? 'completing the login…' : login.status.value === 'error' ? errorText(login.error.value) : startError.value;

    return () =>
      h('div', [
        h('header', [
          h('h1', 'token-lifecycle in Vue'),
          h('p', [
            'Redirect login (',
            h('code', 'useRedirectLogin'),
            '), a badge per credential (',
            h('code', 'useTokenState'),
            ', ',
            h('code', 'useAccessToken'),
            '), a protected API through ',
            h('code', 'useAuthFetch'),
            ', and the lifecycle machine live. Tokens appear as fingerprints (first 8 hex digits of their SHA-256) only.',
          ]),
        ]),
        h('nav', [
          h('button', { 'data-testid': 'login', onClick: start }, 'Log in (redirect)'),
          h(ApiButton, { url: props.config.apiUrl, credential: USER }),
          h('button', { 'data-testid': 'logout', onClick: () => void props.manager.remove(USER) }, 'Log out (revoke)'),
        ]),
        props.config.controls ? h(Controls) : null,
        h('p', { 'data-testid': 'login-status', class: 'error' }, loginLine()),
        h('section', { class: 'badges' }, CREDENTIALS.map((credential) => h(StatusBadge, { key: credential, credential }))),
        h(LiveView, { credential: USER }),
      ]);
  },
});
