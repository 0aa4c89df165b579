/**
 * Everything the offline `token get` does not need, behind one module that is only ever imported
 * dynamically: the storage adapters, the manager (XState) and the endpoint (ky). The bin ships it as
 * a second file (dist/bin/token-lifecycle-commands.cjs, see adapters/cli/bundle.mjs) so that the
 * offline path does not even parse it. Each export reports its own errors and resolves to an exit
 * code: nothing thrown crosses from this module to the caller.
 */
export { getOnline, getViaStorage, loginForGet } from './commands/get-online.js';
export { loginCommand } from './commands/login.js';
export { statusCommand } from './commands/status.js';
export { setCommand } from './commands/set.js';
export { refreshCommand } from './commands/refresh.js';
export { deleteCommand } from './commands/delete.js';
