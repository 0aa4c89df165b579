import { describe, expect, it } from 'vitest';
import { applyClientAuth, basicAuthorization, formUrlEncode } from '../../../adapters/oauth2/client-auth.js';

const decode = (header: string): string => Buffer.from(header.replace(/^Basic /, ''), 'base64').toString('utf8');

describe('client_secret_basic (RFC 6749 §2.3.1)', () => {
  it('form-urlencodes id and secret before base64, so : + / % survive', async () => {
    expect(decode(basicAuthorization('conf-client', 'a+secret/with:odd%chars'))).toBe(
      'conf-client:a%2Bsecret%2Fwith%3Aodd%25chars',
    );
  });

  it('encodes a space as + and non-ASCII as UTF-8 percent-escapes', async () => {
    expect(decode(basicAuthorization('my app', 'pässword'))).toBe('my+app:p%C3%A4ssword');
  });

  it('a colon in the client id is escaped too: the server splits on the first raw colon', async () => {
    expect(decode(basicAuthorization('urn:client', 's'))).toBe('urn%3Aclient:s');
  });

  it('the form encoding leaves unreserved characters alone', async () => {
    expect(formUrlEncode('AZaz09-._*')).toBe('AZaz09-._*');
  });
});

describe('applyClientAuth', () => {
  it('basic: an Authorization header, nothing in the body', async () => {
    const body = new URLSearchParams();
    const headers = new Headers();
    await applyClientAuth({ clientId: 'c', clientSecret: 's', authMethod: 'client_secret_basic' }, body, headers);
    expect(headers.get('authorization')).toBe(`Basic ${btoa('c:s')}`);
    expect(body.toString()).toBe('');
  });

  it('post: client_id and client_secret in the body, no header', async () => {
    const body = new URLSearchParams();
    const headers = new Headers();
    await applyClientAuth({ clientId: 'c', clientSecret: 's+1', authMethod: 'client_secret_post' }, body, headers);
    expect(headers.has('authorization')).toBe(false);
    expect(body.toString()).toBe('client_id=c&client_secret=s%2B1');
  });

  it('none: client_id only', async () => {
    const body = new URLSearchParams();
    const headers = new Headers();
    await applyClientAuth({ clientId: 'public', authMethod: 'none' }, body, headers);
    expect(headers.has('authorization')).toBe(false);
    expect(body.toString()).toBe('client_id=public');
  });
});
