import { defineComponent, h, ref } from 'vue';
import { useAuthFetch } from '../../adapters/frameworks/vue/index.js';
import { errorText } from '../frameworks/example-config.js';

/** Calls the protected API with the credential's token (`useAuthFetch`: the bearer attached, R10 on 401). */
export const ApiButton = defineComponent({
  name: 'ApiButton',
  props: { url: { type: String, required: true }, credential: { type: String, required: true } },
  setup(props) {
    const api = useAuthFetch(props.credential);
    const result = ref('');
    const call = (): void => {
      result.value = '…';
      api(props.url).then(
        async (response) => (result.value = `HTTP ${response.status}: ${await response.text()}`),
        (error: unknown) => (result.value = errorText(error)),
      );
    };
    return () => [
      h('button', { 'data-testid': 'call-api', onClick: call }, 'Call the API'),
      h('span', { 'data-testid': 'api-result', class: 'result' }, result.value),
    ];
  },
});
