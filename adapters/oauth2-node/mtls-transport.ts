/**
 * `mtlsTransport({ cert, key, ca })`: a `fetch` over a client certificate's TLS connection (RFC 8705),
 * for `oauth2Endpoint({ tls })`, the logins, and `authFetch` / `kyAuth` (certificate-bound access
 * tokens reach resource servers over the same identity). Node only: exported from
 * `token-lifecycle/adapters/oauth2/node`.
 *
 * The connection is an undici `Agent` (the optional peer dependency `undici`, 7.x) given to Node's
 * global `fetch` as its `dispatcher`: Node 20–24 bundle undici 6/7, whose `fetch` takes a 7.x agent
 * (docs/decisions.md, "mTLS transport"). The key and the certificate stay inside the agent: never in
 * this value, an error or a message.
 */
import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { InvalidConfigError } from '../../machines/lifecycle/errors.js';
import type { ExplainableError, MtlsFetch, MtlsTransport } from '../oauth2/mtls.js';

type Pem = string | Uint8Array;

export interface MtlsTransportOptions {
  /** The client certificate, PEM (its chain may follow it). */
  cert: Pem;
  /** Its private key, PEM (PKCS#8, PKCS#1 or SEC1). */
  key: Pem;
  /** The key's passphrase, if it is encrypted. */
  passphrase?: string;
  /** Trust anchors for the server's certificate (PEM); default Node's root store. */
  ca?: Pem | Pem[];
}

/** undici's `Agent`, as much of it as used here (so the types do not depend on undici's version). */
interface AgentLike {
  close(): Promise<void>;
}
interface UndiciModule {
  Agent: new (options: { connect: Record<string, unknown> }) => AgentLike;
}

/**
 * Checks the certificate and key now (a key that is not the certificate's, an unreadable PEM, an
 * encrypted key without its passphrase: `invalid_config`, never quoting them) and opens nothing:
 * connections are made by the first request.
 */
export async function mtlsTransport(options: MtlsTransportOptions): Promise<MtlsTransport> {
  if (typeof options !== 'object' || options === null) throw new InvalidConfigError('mtlsTransport needs { cert, key }');
  const { cert, key, passphrase, ca } = options;
  if (!isPem(cert)) throw new InvalidConfigError('mtlsTransport: cert must be a PEM certificate (string or bytes)');
  if (!isPem(key)) throw new InvalidConfigError('mtlsTransport: key must be a PEM private key (string or bytes)');
  if (passphrase !== undefined && typeof passphrase !== 'string') throw new InvalidConfigError('mtlsTransport: passphrase must be a string');
  const cas = ca === undefined ? undefined : [ca].flat();
  if (cas !== undefined && !cas.every(isPem)) throw new InvalidConfigError('mtlsTransport: ca must be PEM (a string, bytes, or a list of them)');

  const certificate = parseCertificate(cert);
  const privateKey = parsePrivateKey(key, passphrase);
  if (!certificate.checkPrivateKey(privateKey)) throw new InvalidConfigError("mtlsTransport: key is not the certificate's private key");
  const thumbprint = createHash('sha256').update(certificate.raw).digest('base64url');

  const { Agent } = await loadUndici();
  const agent = new Agent({
    connect: {
      cert: asText(cert),
      key: asText(key),
      ...(passphrase !== undefined ? { passphrase } : {}),
      ...(cas !== undefined ? { ca: cas.map(asText) } : {}),
    },
  });
  // Looked up per call, so a `fetch` patched after construction (instrumentation) is used.
  const send: MtlsFetch = (input, init) => globalThis.fetch(input, { ...init, dispatcher: agent } as RequestInit);
  return Object.freeze({ kind: 'mtls' as const, fetch: send, thumbprint, close: () => agent.close(), alias, explain, closedNote: CLOSED_NOTE });
}

/** RFC 8705 §5: a server may publish other URLs for the clients that use mutual TLS. */
function alias(metadata: Readonly<Record<string, unknown>>, field: string): string | undefined {
  const aliases = metadata.mtls_endpoint_aliases;
  const value = typeof aliases === 'object' && aliases !== null ? (aliases as Record<string, unknown>)[field] : undefined;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

const REFUSED: Readonly<Record<string, string>> = {
  tls_client_auth:
    '; the client authenticated with its TLS certificate (tls_client_auth, RFC 8705): the server may have refused it (none sent, not issued by a CA it trusts, a subject other than the registered one)',
  self_signed_tls_client_auth:
    "; the client authenticated with its TLS certificate (self_signed_tls_client_auth, RFC 8705): the server may have refused it (none sent, or not one of the client's registered keys)",
};

/** What a refusal of the certificate may mean (servers answer a bare `invalid_client`). */
function explain<E extends ExplainableError>(error: E, authMethod: string): E {
  const note = REFUSED[authMethod];
  if (note !== undefined && (error.code === 'invalid_client' || error.status === 401)) error.message += note;
  return error;
}

/** A server that refuses the certificate in the handshake closes the connection (TLS 1.3: after it). */
const CLOSED_NOTE = '; the request went over a client certificate (RFC 8705): a server that refuses it in the TLS handshake closes the connection';

function isPem(value: unknown): value is Pem {
  return (typeof value === 'string' && value.length > 0) || (value instanceof Uint8Array && value.length > 0);
}

function asText(value: Pem): string {
  return typeof value === 'string' ? value : Buffer.from(value).toString('utf8');
}

function parseCertificate(cert: Pem): X509Certificate {
  try {
    return new X509Certificate(asText(cert));
  } catch {
    throw new InvalidConfigError('mtlsTransport: cert is not a readable PEM certificate');
  }
}

function parsePrivateKey(key: Pem, passphrase: string | undefined): KeyObject {
  try {
    return createPrivateKey(passphrase === undefined ? { key: asText(key) } : { key: asText(key), passphrase });
  } catch {
    // Not Node's message: it may describe the key.
    throw new InvalidConfigError(
      passphrase === undefined
        ? 'mtlsTransport: key is not a readable PEM private key (an encrypted one needs its passphrase)'
        : 'mtlsTransport: key is not a readable PEM private key, or the passphrase is wrong',
    );
  }
}

async function loadUndici(): Promise<UndiciModule> {
  try {
    return (await import('undici')) as unknown as UndiciModule;
  } catch {
    throw new InvalidConfigError('mtlsTransport needs the undici package (an optional peer dependency): npm install undici@7');
  }
}
