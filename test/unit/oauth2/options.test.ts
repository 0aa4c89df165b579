import { describe, expect, it, vi } from 'vitest';
import { oauth2Endpoint, type OAuth2EndpointOptions } from '../../../adapters/oauth2/index.js';
import { isLoopbackHost } from '../../../adapters/oauth2/secure-url.js';

function thrown(options: OAuth2EndpointOptions): unknown {
  try {
    oauth2Endpoint(options);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('HTTPS required except loopback (R13)', () => {
  it.each([
    'http://127.0.0.1:8080/token',
    'http://127.8.9.10/token',
    'http://127.1/token', // the URL parser normalises it to 127.0.0.1
    'http://[::1]:3000/token',
    'http://localhost/token',
    'http://LOCALHOST:9/token',
    'https://auth.example.com/token',
  ])('%s is accepted', (tokenUrl) => {
    expect(thrown({ tokenUrl, clientId: 'c' })).toBeUndefined();
  });

  it.each([
    'http://auth.example.com/token',
    'http://10.0.0.1/token',
    'http://128.0.0.1/token',
    'http://127.0.0.1.nip.io/token',
    'http://[::2]/token',
    'http://localhost.example.com/token',
  ])('%s is insecure_endpoint', (tokenUrl) => {
    expect(thrown({ tokenUrl, clientId: 'c' })).toMatchObject({ code: 'insecure_endpoint' });
  });

  it('the message names the origin only, not the path or query', () => {
    const error = thrown({ tokenUrl: 'http://auth.example.com/token?key=abc', clientId: 'c' }) as Error;
    expect(error.message).toContain('http://auth.example.com');
    expect(error.message).not.toContain('key=abc');
  });

  it.each(['ftp://auth.example.com/token', 'not a url', '/token'])('%s is invalid_config', (tokenUrl) => {
    expect(thrown({ tokenUrl, clientId: 'c' })).toMatchObject({ code: 'invalid_config' });
  });

  it('isLoopbackHost takes URL-normalised host names', () => {
    expect(isLoopbackHost('127.255.255.255')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('::1x')).toBe(false);
    expect(isLoopbackHost('localhost.')).toBe(false);
  });
});

describe('options checked at construction', () => {
  const base = { tokenUrl: 'https://as.example/token', clientId: 'c' };

  it.each<[string, OAuth2EndpointOptions]>([
    ['no issuer and no tokenUrl', { clientId: 'c' }],
    ['no clientId', { ...base, clientId: '' }],
    ['client_secret_basic without a secret', { ...base, authMethod: 'client_secret_basic' }],
    ['client_secret_post without a secret', { ...base, authMethod: 'client_secret_post' }],
    ['none with a secret', { ...base, clientSecret: 's', authMethod: 'none' }],
    ['an unknown authMethod', { ...base, clientSecret: 's', authMethod: 'private_key_jwt' as 'none' }],
    ['an empty clientSecret', { ...base, clientSecret: '' }],
    ['client_credentials without a secret (RFC 6749 §4.4)', { ...base, grant: 'client_credentials' }],
    ['an unknown grant', { ...base, grant: 'password' as 'refresh_token' }],
    ['a zero timeout', { ...base, timeout: 0 }],
    ['a negative timeout', { ...base, timeout: -1 }],
    ['an unparsable timeout', { ...base, timeout: 'soon' }],
    ['a timeout over setTimeout’s limit', { ...base, timeout: '30d' }],
    ['extraParams setting grant_type', { ...base, extraParams: { grant_type: 'password' } }],
    ['extraParams setting client_secret', { ...base, extraParams: { client_secret: 'x' } }],
    ['extraParams setting scope', { ...base, extraParams: { scope: 'x' } }],
    ['a non-string extraParams value', { ...base, extraParams: { audience: 5 as unknown as string } }],
    ['a relative resource (RFC 8707 §2)', { ...base, resource: '/api' }],
    ['a resource with a fragment', { ...base, resource: ['https://api.example/#x'] }],
    ['an issuer with a query (RFC 8414 §2)', { issuer: 'https://as.example/?tenant=1', clientId: 'c' }],
    ['an issuer with a fragment', { issuer: 'https://as.example/#', clientId: 'c' }],
  ])('%s is invalid_config', (_, options) => {
    expect(thrown(options)).toMatchObject({ code: 'invalid_config' });
  });

  it('makes no request at construction, not even discovery', () => {
    const fetch = vi.fn<typeof globalThis.fetch>();
    oauth2Endpoint({ issuer: 'https://as.example', clientId: 'c', fetch });
    expect(fetch).not.toHaveBeenCalled();
  });

  it('accepts a duration string for the timeout', () => {
    expect(thrown({ ...base, timeout: '200ms' })).toBeUndefined();
    expect(thrown({ ...base, timeout: '1.5m' })).toBeUndefined();
  });
});
