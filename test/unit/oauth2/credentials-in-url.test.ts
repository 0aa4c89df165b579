/** Issue 22, case 3: credentials inside an endpoint URL are refused at construction, never echoed. */
import { describe, expect, it } from 'vitest';
import { oauth2Endpoint } from '../../../adapters/oauth2/index.js';
import { InvalidConfigError } from '../../../machines/lifecycle/errors.js';
import { renderings } from '../../support/secret-scan.js';

const SECRET = 'pw-Zx81Lm02Qa';

function refusal(make: () => unknown): InvalidConfigError {
  try {
    make();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidConfigError);
    return error as InvalidConfigError;
  }
  throw new Error('expected invalid_config');
}

describe('an endpoint URL carrying credentials is invalid_config, without the URL', () => {
  it.each([
    ['tokenUrl with user:password@', { tokenUrl: `https://user:${SECRET}@auth.example.com/token` }],
    ['tokenUrl with a password only', { tokenUrl: `https://:${SECRET}@auth.example.com/token` }],
    ['tokenUrl with client_secret in the query', { tokenUrl: `https://auth.example.com/token?client_secret=${SECRET}` }],
    ['tokenUrl with access_token in the query', { tokenUrl: `http://127.0.0.1:9/token?access_token=${SECRET}` }],
    ['revocationUrl with user:password@', { tokenUrl: 'https://a.example/token', revocationUrl: `https://u:${SECRET}@a.example/revoke` }],
    ['issuer with user:password@', { issuer: `https://u:${SECRET}@a.example` }],
  ])('%s', (_, urls) => {
    const error = refusal(() => oauth2Endpoint({ clientId: 'c', ...urls }));
    expect(error.code).toBe('invalid_config');
    expect(error.message).toMatch(/must not carry (credentials|a secret)/);
    for (const text of renderings(error)) expect(text).not.toContain(SECRET);
  });

  it('an ordinary query is fine', () => {
    expect(() => oauth2Endpoint({ clientId: 'c', tokenUrl: 'https://auth.example.com/token?tenant=a' })).not.toThrow();
  });
});
