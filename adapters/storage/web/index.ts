// token-lifecycle/adapters/web: TokenStorage for browsers, shared by an origin's tabs (DESIGN §8).
export { webStorage, type WebStorage, type WebStorageArea, type WebStorageCapabilities, type WebStorageOptions } from './web-storage.js';
export type { ChangeFeedKind } from './change-feed.js';
