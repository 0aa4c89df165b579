// token-lifecycle/adapters/oauth2/node: everything in /adapters/oauth2, plus what needs Node built-ins:
// loopbackLogin listens on 127.0.0.1 (node:http); mtlsTransport makes a client-certificate TLS connection
// (node:crypto, undici). Kept apart so the browser-safe entry imports no Node built-in (R16;
// docs/decisions.md).
export * from '../oauth2/index.js';
export { loopbackLogin, type LoopbackLoginOptions } from './loopback-login.js';
export { mtlsTransport, type MtlsTransportOptions } from './mtls-transport.js';
