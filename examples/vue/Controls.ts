import { defineComponent, h, ref } from 'vue';
import { control } from '../frameworks/example-config.js';

/** The demo server's fault switches: the token endpoint down or up, the grant revoked at the server. */
export const Controls = defineComponent({
  name: 'DemoControls',
  setup() {
    const answer = ref('');
    const on = (path: string) => () => {
      control(path).then(
        (text) => (answer.value = text),
        (error: unknown) => (answer.value = String(error)),
      );
    };
    return () =>
      h('nav', { 'data-testid': 'controls' }, [
        h('strong', 'at the server:'),
        h('button', { 'data-testid': 'outage-on', onClick: on('/control/outage?on=1') }, 'Token endpoint down'),
        h('button', { 'data-testid': 'outage-off', onClick: on('/control/outage?on=0') }, 'Token endpoint up'),
        h('button', { 'data-testid': 'revoke', onClick: on('/control/revoke') }, 'Revoke the grant'),
        h('span', { 'data-testid': 'control-result', class: 'result' }, answer.value),
      ]);
  },
});
