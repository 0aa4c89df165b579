import { describe, expect, it } from 'vitest';
import {
  authorizationServerMetadataUrl,
  checkMetadata,
  discoveryUrls,
  lazyDiscovery,
  openIdConfigurationUrl,
  type ServerMetadata,
} from '../../../adapters/oauth2/discovery.js';
import { DiscoveryFailedError } from '../../../machines/lifecycle/errors.js';

describe('metadata locations', () => {
  it.each([
    ['https://as.example', 'https://as.example/.well-known/oauth-authorization-server'],
    ['https://as.example/', 'https://as.example/.well-known/oauth-authorization-server'],
    ['https://as.example/tenant/v2', 'https://as.example/.well-known/oauth-authorization-server/tenant/v2'],
    ['https://as.example/tenant/', 'https://as.example/.well-known/oauth-authorization-server/tenant'],
    ['http://127.0.0.1:8080/realms/x', 'http://127.0.0.1:8080/.well-known/oauth-authorization-server/realms/x'],
  ])('RFC 8414 §3.1: %s → %s (well-known between host and path)', (issuer, url) => {
    expect(authorizationServerMetadataUrl(new URL(issuer)).href).toBe(url);
  });

  it.each([
    ['https://as.example', 'https://as.example/.well-known/openid-configuration'],
    ['https://as.example/', 'https://as.example/.well-known/openid-configuration'],
    ['https://as.example/tenant', 'https://as.example/tenant/.well-known/openid-configuration'],
    ['https://as.example/tenant/', 'https://as.example/tenant/.well-known/openid-configuration'],
  ])('OIDC Discovery §4: %s → %s (appended to the issuer)', (issuer, url) => {
    expect(openIdConfigurationUrl(new URL(issuer)).href).toBe(url);
  });

  it('a path starting with // never moves the request to another host', () => {
    const issuer = new URL('https://as.example//evil.example/x');
    for (const url of discoveryUrls(issuer)) expect(url.host).toBe('as.example');
  });

  it('RFC 8414 first, then OpenID', () => {
    const [first, second] = discoveryUrls(new URL('https://as.example'));
    expect(first.pathname).toBe('/.well-known/oauth-authorization-server');
    expect(second.pathname).toBe('/.well-known/openid-configuration');
  });
});

describe('checkMetadata', () => {
  const issuer = 'https://as.example';
  const good = { issuer, token_endpoint: 'https://as.example/token', revocation_endpoint: 'https://as.example/revoke' };

  it('accepts a document whose issuer is exactly the configured one', () => {
    expect(checkMetadata(good, issuer)).toEqual(good);
  });

  it.each([
    ['another issuer', { ...good, issuer: 'https://evil.example' }],
    ['a trailing slash (exact comparison, RFC 8414 §3.3)', { ...good, issuer: 'https://as.example/' }],
    ['no issuer', { token_endpoint: good.token_endpoint }],
    ['no token_endpoint', { issuer }],
    ['an empty token_endpoint', { issuer, token_endpoint: '' }],
    ['a non-string revocation_endpoint', { ...good, revocation_endpoint: 42 }],
    ['an array', [good]],
    ['null', null],
    ['a string', 'metadata'],
  ])('refuses %s with discovery_failed (not retryable)', (_, document) => {
    let thrown: unknown;
    try {
      checkMetadata(document, issuer);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(DiscoveryFailedError);
    expect(thrown).toMatchObject({ code: 'discovery_failed', retryable: false });
  });
});

describe('lazyDiscovery', () => {
  const metadata: ServerMetadata = { issuer: 'https://as.example', token_endpoint: 'https://as.example/token' };

  function deferred<T>() {
    let resolve!: (value: T) => void;
    let reject!: (reason: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  }

  it('loads nothing until asked, then once for concurrent callers, then from cache', async () => {
    let loads = 0;
    const gate = deferred<ServerMetadata>();
    const get = lazyDiscovery(() => {
      loads += 1;
      return gate.promise;
    });
    expect(loads).toBe(0);
    const a = get();
    const b = get();
    gate.resolve(metadata);
    await expect(Promise.all([a, b])).resolves.toEqual([metadata, metadata]);
    await get();
    expect(loads).toBe(1);
  });

  it('does not cache a failure: the next call loads again', async () => {
    let loads = 0;
    const get = lazyDiscovery(async () => {
      loads += 1;
      if (loads === 1) throw new DiscoveryFailedError('down', { retryable: true });
      return metadata;
    });
    await expect(get()).rejects.toMatchObject({ code: 'discovery_failed' });
    await expect(get()).resolves.toBe(metadata);
    expect(loads).toBe(2);
  });

  it('an aborted caller stops waiting with its reason; the shared load goes on for the others', async () => {
    const gate = deferred<ServerMetadata>();
    const get = lazyDiscovery(() => gate.promise);
    const controller = new AbortController();
    const reason = new Error('gave up');
    const aborted = get(controller.signal);
    const other = get();
    controller.abort(reason);
    await expect(aborted).rejects.toBe(reason);
    gate.resolve(metadata);
    await expect(other).resolves.toBe(metadata);
  });

  it('an already aborted signal rejects at once', async () => {
    const get = lazyDiscovery(async () => metadata);
    await expect(get(AbortSignal.abort('stop'))).rejects.toBe('stop');
  });
});
