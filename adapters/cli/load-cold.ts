/**
 * The one door to ./cold.ts (everything the offline `token get` does not load). In the bin,
 * adapters/cli/bundle.mjs replaces this module with a `require` of the commands file that sits next
 * to the bin (dist/bin/token-lifecycle-commands.cjs).
 */
export type Cold = typeof import('./cold.js');

export function loadCold(): Promise<Cold> {
  return import('./cold.js');
}
