import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../../../machines/lifecycle/errors.js';
import { base64url } from '../../../adapters/oauth2/base64url.js';
import {
  codeChallengeS256,
  createCodeVerifier,
  createPkce,
  createState,
  stateMatches,
} from '../../../adapters/oauth2/pkce.js';

describe('PKCE S256 (RFC 7636)', () => {
  it('matches the RFC 7636 Appendix B test vector', async () => {
    // Appendix B: the verifier is the base64url of these 32 octets, the challenge is given.
    const octets = new Uint8Array([
      116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77, 105, 214,
      191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
    ]);
    const verifier = base64url(octets);
    expect(verifier).toBe('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk');
    expect(await codeChallengeS256(verifier)).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  it('a fresh verifier is 43 unreserved characters and differs each time', () => {
    const a = createCodeVerifier();
    const b = createCodeVerifier();
    expect(a).toMatch(/^[A-Za-z0-9\-_]{43}$/);
    expect(a).not.toBe(b);
  });

  it('createPkce pairs the verifier with its own S256 challenge', async () => {
    const pkce = await createPkce();
    expect(pkce.method).toBe('S256');
    expect(pkce.challenge).toBe(await codeChallengeS256(pkce.verifier));
    expect(pkce.challenge).toMatch(/^[A-Za-z0-9\-_]{43}$/);
  });

  it('refuses a verifier that RFC 7636 §4.1 forbids (too short, too long, bad characters)', async () => {
    await expect(codeChallengeS256('short')).rejects.toBeInstanceOf(InvalidConfigError);
    await expect(codeChallengeS256('a'.repeat(129))).rejects.toBeInstanceOf(InvalidConfigError);
    await expect(codeChallengeS256(`${'a'.repeat(42)}+`)).rejects.toMatchObject({ code: 'invalid_config' });
    await expect(codeChallengeS256('a'.repeat(128))).resolves.toMatch(/^[A-Za-z0-9\-_]{43}$/);
  });
});

describe('state', () => {
  it('is 22 base64url characters (128 bits) and unpredictable', () => {
    const states = new Set(Array.from({ length: 50 }, () => createState()));
    expect(states.size).toBe(50);
    for (const s of states) expect(s).toMatch(/^[A-Za-z0-9\-_]{22}$/);
  });

  it('matches only the exact value sent', () => {
    const state = createState();
    expect(stateMatches(state, state)).toBe(true);
    expect(stateMatches(state, `${state}x`)).toBe(false);
    expect(stateMatches(state, state.slice(0, -1) + (state.endsWith('A') ? 'B' : 'A'))).toBe(false);
    expect(stateMatches(state, null)).toBe(false);
    expect(stateMatches(state, undefined)).toBe(false);
    expect(stateMatches('', '')).toBe(false);
  });
});
