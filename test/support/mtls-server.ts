/**
 * Mutual TLS (RFC 8705) at a real authorization server: oidc-provider (test/support/oidc-server.ts)
 * over HTTPS on 127.0.0.1 with its `mTLS` feature on (client authentication by certificate and
 * certificate-bound access tokens), the server asking every client for a certificate; and a resource
 * server, also HTTPS, that accepts an access token only over the certificate it is bound to.
 *
 * The server asks for a certificate but does not require one in the handshake (`rejectUnauthorized:
 * false`), so a missing or untrusted certificate reaches oidc-provider, which answers `invalid_client`;
 * `requireCertificate: true` makes the handshake itself fail instead.
 */
import { X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ClientMetadata, KoaContext } from 'oidc-provider';
import { startAuthServer, type AuthServer, type AuthServerOptions } from './oidc-server.js';
import { thumbprintOf, type TestPki } from './test-pki.js';

export const MTLS_CLIENTS = {
  /** tls_client_auth, subject DN `CN=mtls-client`, certificate-bound access tokens. */
  pki: 'mtls-client',
  /** self_signed_tls_client_auth: the client's JWKS holds its self-signed certificate. */
  selfSigned: 'mtls-self-signed',
  /** tls_client_auth like `pki`, a native app with a loopback redirect (any port): for loopbackLogin. */
  native: 'mtls-native',
} as const;

/** The redirect URI registered for MTLS_CLIENTS.native (RFC 8252 §7.3: any port). */
export const NATIVE_REDIRECT = 'http://127.0.0.1/callback';

const GRANTS = { grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], redirect_uris: ['http://127.0.0.1:1/cb'] };

function peerCertificate(ctx: KoaContext): X509Certificate | undefined {
  const peer = (ctx.req.socket as TLSSocket).getPeerCertificate?.();
  return peer?.raw ? new X509Certificate(peer.raw) : undefined;
}

/** The subject DN as RFC 4514 would write it for our one-attribute subjects (`CN=mtls-client`). */
function subjectDn(cert: X509Certificate): string {
  return cert.subject.split('\n').reverse().join(',');
}

export interface MtlsAuthServerOptions extends Pick<AuthServerOptions, 'ttl'> {
  /** Refuse a missing or untrusted client certificate in the TLS handshake. */
  requireCertificate?: boolean;
}

export async function startMtlsAuthServer(pki: TestPki, options: MtlsAuthServerOptions = {}): Promise<AuthServer> {
  const self = new X509Certificate(pki.selfSigned.cert);
  const selfJwk = { ...self.publicKey.export({ format: 'jwk' }), x5c: [self.raw.toString('base64')], use: 'sig' };
  const clients: ClientMetadata[] = [
    {
      client_id: MTLS_CLIENTS.pki,
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_auth_subject_dn: pki.clientSubject,
      tls_client_certificate_bound_access_tokens: true,
      ...GRANTS,
    } as ClientMetadata,
    {
      client_id: MTLS_CLIENTS.native,
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_auth_subject_dn: pki.clientSubject,
      tls_client_certificate_bound_access_tokens: true,
      application_type: 'native',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [NATIVE_REDIRECT],
    } as ClientMetadata,
    {
      client_id: MTLS_CLIENTS.selfSigned,
      token_endpoint_auth_method: 'self_signed_tls_client_auth',
      jwks: { keys: [selfJwk as never] },
      tls_client_certificate_bound_access_tokens: true,
      ...GRANTS,
    } as ClientMetadata,
  ];
  // Not an object literal: the examples' type for `features` names `enabled` only.
  const mTLS = {
    enabled: true,
    certificateBoundAccessTokens: true,
    tlsClientAuth: true,
    selfSignedTlsClientAuth: true,
    getCertificate: peerCertificate,
    certificateAuthorized: (ctx: KoaContext) => (ctx.req.socket as TLSSocket).authorized === true,
    certificateSubjectMatches(ctx: KoaContext, property: string, expected: string) {
      const cert = peerCertificate(ctx);
      return property === 'tls_client_auth_subject_dn' && cert !== undefined && subjectDn(cert) === expected;
    },
  };
  return startAuthServer({
    clients,
    features: { mTLS },
    configuration: {
      clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none', 'tls_client_auth', 'self_signed_tls_client_auth'],
    },
    https: {
      cert: pki.server.cert,
      key: pki.server.key,
      ca: pki.ca,
      requestCert: true,
      rejectUnauthorized: options.requireCertificate === true,
    },
    ...(options.ttl ? { ttl: options.ttl } : {}),
  });
}

export interface BoundResourceServer {
  readonly url: string;
  /** Requests answered, by outcome: `ok`, `no-token`, `unknown-token`, `wrong-certificate`. */
  readonly outcomes: Record<string, number>;
  stop(): Promise<void>;
}

/**
 * An API that takes a Bearer access token only over the TLS certificate the token is bound to: it
 * looks the token up at the authorization server (oidc-provider's store, as introspection would) and
 * compares its `cnf.x5t#S256` with the thumbprint of the connection's client certificate (RFC 8705 §3).
 */
export async function startBoundResourceServer(pki: TestPki, auth: AuthServer): Promise<BoundResourceServer> {
  const outcomes: Record<string, number> = {};
  const count = (outcome: string): void => {
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  };
  const server: Server = createServer(
    { cert: pki.server.cert, key: pki.server.key, ca: pki.ca, requestCert: true, rejectUnauthorized: false },
    (request, response) => {
      void (async () => {
        const token = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
        const deny = (outcome: string, error: string): void => {
          count(outcome);
          response.writeHead(401, { 'www-authenticate': `Bearer error="${error}"` }).end();
        };
        if (!token) return deny('no-token', 'invalid_request');
        const stored = await auth.provider.AccessToken.find(token);
        if (!stored) return deny('unknown-token', 'invalid_token');
        const peer = (request.socket as TLSSocket).getPeerCertificate();
        const presented = peer?.raw ? thumbprintOf(new X509Certificate(peer.raw)) : undefined;
        const bound = (stored as unknown as Record<string, unknown>)['x5t#S256'];
        if (typeof bound !== 'string' || bound !== presented) return deny('wrong-certificate', 'invalid_token');
        count('ok');
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, bound }));
      })().catch(() => response.writeHead(500).end());
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/api`,
    outcomes,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
