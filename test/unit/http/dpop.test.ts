/**
 * The HTTP adapters and DPoP (RFC 9449 §7, §9; R20), with a stand-in token source and fetch: a DPoP
 * token goes out with a proof bound to the request and the token; a resource's nonce challenge is
 * answered once; a DPoP token without a key is never sent.
 */
import { EmbeddedJWK, jwtVerify } from 'jose';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { asksForDpopNonce, isRenewable } from '../../../adapters/http/challenge.js';
import ky from 'ky';
import { authFetch, kyHooks, type HttpTokenSource } from '../../../adapters/http/index.js';
import { createDpopProver, generateDpopKeyPair } from '../../../adapters/oauth2/dpop.js';
import { UnsupportedTokenTypeError } from '../../../machines/lifecycle/errors.js';
import type { DpopProver, TokenSet } from '../../../machines/lifecycle/types.js';

const DPOP_TOKEN: TokenSet = { accessToken: 'dpop-bound-at', tokenType: 'DPoP' };
const NONCE_CHALLENGE = { status: 401, headers: { 'www-authenticate': 'DPoP error="use_dpop_nonce", error_description="nonce"', 'dpop-nonce': 'rs-nonce' } };

function source(token: TokenSet, dpop?: DpopProver): HttpTokenSource & { renewals: number } {
  const s = {
    renewals: 0,
    getToken: async () => token,
    renewAfterUnauthorized: async () => {
      s.renewals += 1;
      return token;
    },
    ...(dpop ? { dpop } : {}),
  };
  return s;
}

function resource(replies: Array<{ status: number; headers?: Record<string, string> }>) {
  const seen: Request[] = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    seen.push(new Request(input, init));
    const reply = replies.shift() ?? { status: 200 };
    return new Response('{}', { status: reply.status, headers: reply.headers ?? {} });
  };
  return { fetch, seen };
}

async function claims(request: Request | undefined) {
  return (await jwtVerify(request?.headers.get('dpop') ?? '', EmbeddedJWK, { typ: 'dpop+jwt' })).payload;
}

describe('authFetch with DPoP', () => {
  it('sends Authorization: DPoP with a proof for this method, URL and token (ath)', async () => {
    const prover = createDpopProver({ keyPair: await generateDpopKeyPair() });
    const rs = resource([]);
    await authFetch(source(DPOP_TOKEN, prover), { fetch: rs.fetch })('https://rs.example/items?page=2', { method: 'post', body: 'x' });
    expect(rs.seen[0]?.headers.get('authorization')).toBe('DPoP dpop-bound-at');
    expect(await claims(rs.seen[0])).toMatchObject({
      htm: 'POST',
      htu: 'https://rs.example/items',
      ath: createHash('sha256').update('dpop-bound-at').digest('base64url'),
    });
  });

  it('answers use_dpop_nonce once with the same token and a proof holding the nonce; no refresh', async () => {
    const prover = createDpopProver({ keyPair: await generateDpopKeyPair() });
    const rs = resource([NONCE_CHALLENGE, NONCE_CHALLENGE]);
    const tokens = source(DPOP_TOKEN, prover);
    const response = await authFetch(tokens, { fetch: rs.fetch })('https://rs.example/items', { method: 'PUT', body: 'same bytes' });
    // The second challenge (a nonce it has just used) goes back: one nonce retry per request.
    expect(response.status).toBe(401);
    expect(rs.seen).toHaveLength(2);
    expect((await claims(rs.seen[1])).nonce).toBe('rs-nonce');
    expect(await rs.seen[1]?.text()).toBe('same bytes');
    expect(tokens.renewals).toBe(0);
  });

  it('a plain Bearer token from a manager with a DPoP key is sent as Bearer, without a proof', async () => {
    const prover = createDpopProver({ keyPair: await generateDpopKeyPair() });
    const rs = resource([]);
    await authFetch(source({ accessToken: 'plain', tokenType: 'Bearer' }, prover), { fetch: rs.fetch })('https://rs.example/');
    expect(rs.seen[0]?.headers.get('authorization')).toBe('Bearer plain');
    expect(rs.seen[0]?.headers.get('dpop')).toBeNull();
  });

  it('R20: a DPoP token without a key rejects with unsupported_token_type and nothing is sent', async () => {
    const rs = resource([]);
    await expect(authFetch(source(DPOP_TOKEN), { fetch: rs.fetch })('https://rs.example/')).rejects.toBeInstanceOf(UnsupportedTokenTypeError);
    expect(rs.seen).toHaveLength(0);
  });
});

describe('kyHooks with DPoP', () => {
  it('attaches a proof in beforeRequest and answers use_dpop_nonce once from afterResponse, with a new proof', async () => {
    const prover = createDpopProver({ keyPair: await generateDpopKeyPair() });
    const rs = resource([NONCE_CHALLENGE]);
    const tokens = source(DPOP_TOKEN, prover);
    const response = await ky.extend({ hooks: kyHooks(tokens), fetch: rs.fetch, retry: 0 })('https://rs.example/items');
    expect(response.status).toBe(200);
    expect(rs.seen).toHaveLength(2);
    expect(rs.seen.map((r) => r.headers.get('authorization'))).toEqual(['DPoP dpop-bound-at', 'DPoP dpop-bound-at']);
    const [first, second] = [await claims(rs.seen[0]), await claims(rs.seen[1])];
    expect(first.nonce).toBeUndefined();
    expect(second).toMatchObject({ nonce: 'rs-nonce', htm: 'GET', htu: 'https://rs.example/items' });
    expect(second.jti).not.toBe(first.jti);
    expect(tokens.renewals).toBe(0);
  });
});

describe('the nonce challenge (RFC 9449 §9)', () => {
  it('is a 401 with a DPoP challenge whose error is use_dpop_nonce, and is not a reason to refresh (R10)', () => {
    const challenge = new Response(null, NONCE_CHALLENGE);
    expect(asksForDpopNonce(challenge)).toBe(true);
    expect(isRenewable(challenge)).toBe(false);
    const bearerInvalid = new Response(null, { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } });
    expect(asksForDpopNonce(bearerInvalid)).toBe(false);
    expect(isRenewable(bearerInvalid)).toBe(true);
    expect(asksForDpopNonce(new Response(null, { status: 400, headers: NONCE_CHALLENGE.headers }))).toBe(false);
  });
});
