import { defineComponent, h, onScopeDispose, ref, watch } from 'vue';
import { useAccessToken, useTokenState } from '../../adapters/frameworks/vue/index.js';
import { fingerprint } from '../browser/fingerprint.js';
import { secondsUntil } from '../frameworks/example-config.js';

/** One credential: its state, time to refresh and to expiry, last error code, and the token's fingerprint. */
export const StatusBadge = defineComponent({
  name: 'StatusBadge',
  props: { credential: { type: String, required: true } },
  setup(props) {
    const { state, detail, refreshAt, expiresAt, lastError } = useTokenState(props.credential);
    // The clock, for the countdowns only; the view itself changes with the credential.
    const now = ref(Date.now());
    const ticker = setInterval(() => (now.value = Date.now()), 500);
    onScopeDispose(() => clearInterval(ticker));

    // The token (`useAccessToken`: asked again whenever the credential changes), shown as a fingerprint only.
    const { token } = useAccessToken(props.credential);
    const shown = ref<string>();
    const usable = (): boolean => state.value !== 'idle' && state.value !== 'reauthRequired';
    let asked = 0;
    watch(
      [token, state],
      () => {
        const ask = ++asked;
        const value = usable() ? token.value?.accessToken : undefined;
        if (value === undefined) {
          shown.value = undefined;
          return;
        }
        void fingerprint(value).then((print) => ask === asked && (shown.value = print));
      },
      { immediate: true },
    );

    return () =>
      h('div', { class: 'badge', 'data-testid': `badge-${props.credential}`, 'data-state': state.value }, [
        h('code', { class: 'key' }, props.credential),
        h('strong', { 'data-testid': 'badge-state' }, detail.value ? `${state.value}.${detail.value}` : state.value),
        h('span', ['refresh in ', h('b', { 'data-testid': 'badge-refresh-in' }, usable() ? secondsUntil(refreshAt.value, now.value) : '—')]),
        h('span', ['expires in ', h('b', { 'data-testid': 'badge-expires-in' }, secondsUntil(expiresAt.value, now.value, 'expired'))]),
        h('span', ['last error ', h('b', { 'data-testid': 'badge-error' }, lastError.value?.code ?? '—')]),
        h('span', ['token ', h('code', { 'data-testid': 'badge-token' }, shown.value ?? '—')]),
      ]);
  },
});
