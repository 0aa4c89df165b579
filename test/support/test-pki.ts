/**
 * Certificates for the mutual-TLS tests (RFC 8705), made fresh with the openssl CLI in a temporary
 * directory (P-256 keys: a few ms each): a test CA, the server's certificate for 127.0.0.1, a client
 * certificate the CA issued, a self-signed client certificate, and a stranger: a client certificate
 * with the same subject from another CA (one the server does not trust).
 */
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface KeyPair {
  /** PEM. */
  readonly cert: string;
  /** PEM (PKCS#8), unencrypted. */
  readonly key: string;
  /** SHA-256 of the DER certificate, base64url: what `cnf.x5t#S256` holds. */
  readonly thumbprint: string;
}

export interface TestPki {
  /** The CA that issued the server's and the client's certificates (PEM). */
  readonly ca: string;
  readonly server: KeyPair;
  /** Subject `CN=mtls-client`, issued by `ca`. */
  readonly client: KeyPair;
  /** Subject `CN=self-signed-client`, its own issuer. */
  readonly selfSigned: KeyPair;
  /** Subject `CN=mtls-client`, issued by another CA. */
  readonly stranger: KeyPair;
  readonly clientSubject: string;
}

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'mtls-pki-'));
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  };
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  const selfSigned = (name: string, subject: string, ...ext: string[]): void =>
    openssl('req', '-x509', ...newKey, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', subject, ...ext.flatMap((e) => ['-addext', e]));
  const issued = (name: string, subject: string, ca: string, extensions: string): void => {
    openssl('req', ...newKey, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
    writeFileSync(join(dir, `${name}.ext`), extensions);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`);
  };
  const caExt = ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign'];
  try {
    selfSigned('ca', '/CN=token-lifecycle test CA', ...caExt);
    selfSigned('other-ca', '/CN=another CA', ...caExt);
    issued('server', '/CN=127.0.0.1', 'ca', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    issued('client', '/CN=mtls-client', 'ca', 'extendedKeyUsage=clientAuth\n');
    issued('stranger', '/CN=mtls-client', 'other-ca', 'extendedKeyUsage=clientAuth\n');
    selfSigned('self', '/CN=self-signed-client', 'extendedKeyUsage=clientAuth');
    const pair = (name: string): KeyPair => {
      const cert = readFileSync(join(dir, `${name}.pem`), 'utf8');
      return { cert, key: readFileSync(join(dir, `${name}.key`), 'utf8'), thumbprint: thumbprintOf(cert) };
    };
    return {
      ca: readFileSync(join(dir, 'ca.pem'), 'utf8'),
      server: pair('server'),
      client: pair('client'),
      selfSigned: pair('self'),
      stranger: pair('stranger'),
      clientSubject: 'CN=mtls-client',
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function thumbprintOf(cert: string | X509Certificate): string {
  const raw = typeof cert === 'string' ? new X509Certificate(cert).raw : cert.raw;
  return createHash('sha256').update(raw).digest('base64url');
}

/** The base64 lines of a PEM (the key material itself), for the secrecy scans. */
export function pemBody(pem: string): string {
  return pem.replace(/-----(BEGIN|END)[^-]+-----/g, '').replace(/\s+/g, '');
}

/** The base64 lines of a PEM of 40 characters or more: pieces of key material worth scanning for. */
export function pemLines(pem: string): string[] {
  return pem.split('\n').filter((line) => /^[A-Za-z0-9+/=]{40,}$/.test(line));
}
