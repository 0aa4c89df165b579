import { useState } from 'react';
import { control } from '../frameworks/example-config.js';

/** The demo server's fault switches: the token endpoint down or up, the grant revoked at the server. */
export function Controls() {
  const [answer, setAnswer] = useState('');
  const on = (path: string) => () => void control(path).then(setAnswer, (error: unknown) => setAnswer(String(error)));
  return (
    <nav data-testid="controls">
      <strong>at the server:</strong>
      <button data-testid="outage-on" onClick={on('/control/outage?on=1')}>Token endpoint down</button>
      <button data-testid="outage-off" onClick={on('/control/outage?on=0')}>Token endpoint up</button>
      <button data-testid="revoke" onClick={on('/control/revoke')}>Revoke the grant</button>
      <span data-testid="control-result" className="result">{answer}</span>
    </nav>
  );
}
