import { useEffect, useRef } from 'react';
import { useTokenManager } from '../../adapters/frameworks/react/index.js';
import { fingerprint } from '../browser/fingerprint.js';
import { mountCredentialView } from '../browser/live-view.js';

/**
 * The browser example's offline live view (machine diagram, countdowns, last events) as a component:
 * mounted into its element after render, everything it subscribed to ended on unmount.
 */
export function LiveView({ credential }: { readonly credential: string }) {
  const manager = useTokenManager();
  const element = useRef<HTMLElement>(null);
  useEffect(() => {
    const root = element.current;
    if (!root) return;
    const view = mountCredentialView(root, manager, credential);
    let active = true;
    // peekToken answers only while the token is far from its refresh: a new one shows, an old one stays.
    const showServing = async (): Promise<void> => {
      const current = manager.peekToken(credential);
      if (!current) return;
      const shown = await fingerprint(current.accessToken);
      if (active) view.serving(shown);
    };
    const off = manager.subscribe((event) => {
      if (event.key !== credential) return;
      view.event(event);
      void showServing();
    });
    const ticker = setInterval(() => view.render(), 200);
    void showServing();
    return () => {
      active = false;
      off();
      clearInterval(ticker);
      view.dispose();
      root.replaceChildren();
    };
  }, [manager, credential]);
  return <main ref={element} className="credential" data-testid="live-view" />;
}
