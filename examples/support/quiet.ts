/**
 * oidc-provider prints "Unsupported runtime" (Node 20), development-key and devInteractions notices
 * through console.warn/console.info. Those lines, and only those, are dropped (the demo's output is a
 * story, and tests must not print noise: test/support/oidc-server.ts uses this too); everything else
 * passes through untouched. Installed once per process.
 */
const NOISE = /^(?:\x1b\[[\d;]*m)?oidc-provider (?:WARNING|NOTICE): /;
let installed = false;

export function silenceOidcProviderNotices(): void {
  if (installed) return;
  installed = true;
  for (const method of ['warn', 'info'] as const) {
    const original = console[method].bind(console);
    console[method] = (...args: unknown[]): void => {
      if (typeof args[0] === 'string' && NOISE.test(args[0])) return;
      original(...args);
    };
  }
}
