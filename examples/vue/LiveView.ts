import { defineComponent, h, onBeforeUnmount, onMounted, ref } from 'vue';
import { useTokenManager } from '../../adapters/frameworks/vue/index.js';
import { fingerprint } from '../browser/fingerprint.js';
import { mountCredentialView, type CredentialView } from '../browser/live-view.js';

/**
 * The browser example's offline live view (machine diagram, countdowns, last events) as a component:
 * mounted into its element once rendered, everything it subscribed to ended before unmount.
 */
export const LiveView = defineComponent({
  name: 'LiveView',
  props: { credential: { type: String, required: true } },
  setup(props) {
    const manager = useTokenManager();
    const element = ref<HTMLElement>();
    let cleanup: (() => void) | undefined;
    onMounted(() => {
      const root = element.value;
      if (!root) return;
      const view: CredentialView = mountCredentialView(root, manager, props.credential);
      let active = true;
      // peekToken answers only while the token is far from its refresh: a new one shows, an old one stays.
      const showServing = async (): Promise<void> => {
        const current = manager.peekToken(props.credential);
        if (!current) return;
        const shown = await fingerprint(current.accessToken);
        if (active) view.serving(shown);
      };
      const off = manager.subscribe((event) => {
        if (event.key !== props.credential) return;
        view.event(event);
        void showServing();
      });
      const ticker = setInterval(() => view.render(), 200);
      void showServing();
      cleanup = () => {
        active = false;
        off();
        clearInterval(ticker);
        view.dispose();
        root.replaceChildren();
      };
    });
    onBeforeUnmount(() => cleanup?.());
    return () => h('main', { ref: element, class: 'credential', 'data-testid': 'live-view' });
  },
});
