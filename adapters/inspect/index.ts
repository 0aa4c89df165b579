// token-lifecycle/adapters/inspect: redacting inspection for the Stately inspector and logs (DESIGN §5).
export { withRedaction, type InspectorLike, type InspectionObserver } from './with-redaction.js';
export { redact } from './redact.js';
export { REDACTED } from '../../machines/lifecycle/secret-patterns.js';
export { isSecretKey } from '../../machines/lifecycle/secret-keys.js';
export type { ActorStandIn } from './actor-stand-in.js';
