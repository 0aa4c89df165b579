/**
 * Sender-constrained tokens (RFC 9449, R20) against oidc-provider with DPoP on: a login bound to a
 * key, a DPoP-bound refresh token refused without a proof and refreshed with one, the server's nonce
 * followed once, a replayed proof refused and reported clearly, and authFetch calling the server's
 * userinfo endpoint (a DPoP resource server) with a fresh proof per request. Every proof is counted
 * at the server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ky from 'ky';
import { authFetch, kyAuth } from '../../adapters/http/index.js';
import { createDpopProver, deviceLogin, generateDpopKeyPair, oauth2Endpoint } from '../../adapters/oauth2/index.js';
import { createTokenManager } from '../../machines/manager/manager.js';
import { LOGIN_CLIENT, LOGIN_SCOPE, startLoginServer, type LoginServer } from '../support/login-server.js';
import { actAsUser } from '../support/login-user.js';

let server: LoginServer;
let nonceServer: LoginServer;
beforeAll(async () => {
  [server, nonceServer] = await Promise.all([startLoginServer(), startLoginServer({ requireDpopNonce: true })]);
});
afterAll(async () => {
  await Promise.all([server?.stop(), nonceServer?.stop()]);
});

/** A device login bound to `keyPair`, the test acting as the user. */
async function boundLogin(on: LoginServer, keyPair: CryptoKeyPair): Promise<Record<string, unknown>> {
  let user: Promise<unknown> | undefined;
  const tokens = await deviceLogin({
    issuer: on.issuer,
    clientId: LOGIN_CLIENT.clientId,
    scope: LOGIN_SCOPE,
    dpop: createDpopProver({ keyPair }),
    onPrompt: (p) => (user = actAsUser(p.verificationUriComplete as string, on.issuer)),
  });
  await user;
  return tokens;
}

describe('DPoP against oidc-provider', () => {
  it('a DPoP-bound refresh token: refused without a proof, refreshed with one; the round trip counted at the server', async () => {
    const keyPair = await generateDpopKeyPair();
    const proofsBefore = server.dpop.proofsByPath['/token'] ?? 0;
    const tokens = await boundLogin(server, keyPair);
    expect(tokens.token_type).toBe('DPoP');
    const refreshToken = tokens.refresh_token as string;

    // Without the key: the server refuses the bound refresh token (and says why only to itself).
    const plain = oauth2Endpoint({ issuer: server.issuer, clientId: LOGIN_CLIENT.clientId });
    await expect(plain.refresh(refreshToken)).rejects.toMatchObject({ code: 'invalid_grant', status: 400 });
    expect(server.grantErrors.at(-1)).toBe('failed jkt verification');

    // With it, through a manager: the refresh carries a proof and the new token is DPoP-bound too.
    const manager = createTokenManager({ endpoint: oauth2Endpoint({ issuer: server.issuer, clientId: LOGIN_CLIENT.clientId, dpop: createDpopProver({ keyPair }) }) });
    await manager.setToken('default', tokens);
    const refreshed = await manager.refresh('default');
    expect(refreshed.tokenType).toBe('DPoP');
    expect(refreshed.refreshToken).not.toBe(refreshToken);
    await manager.stop();

    // The device grant's polls and the refresh carried proofs; the plain refresh did not.
    expect((server.dpop.proofsByPath['/token'] ?? 0) - proofsBefore).toBeGreaterThanOrEqual(2);
    expect(server.dpop.tokenTypes.DPoP).toBeGreaterThanOrEqual(2);
  });

  it('a token_type DPoP given to a manager without a DPoP key is unsupported_token_type (R20)', async () => {
    const tokens = await boundLogin(server, await generateDpopKeyPair());
    const manager = createTokenManager({ endpoint: oauth2Endpoint({ issuer: server.issuer, clientId: LOGIN_CLIENT.clientId }) });
    await expect(manager.setToken('default', tokens)).rejects.toMatchObject({ code: 'unsupported_token_type' });
    await manager.stop();
  });

  it("follows the server's DPoP-Nonce once on the token endpoint, then keeps using the nonces it is given", async () => {
    const keyPair = await generateDpopKeyPair();
    const tokens = await boundLogin(nonceServer, keyPair);
    const challengesBefore = nonceServer.dpop.nonceChallenges;
    const proofsBefore = nonceServer.dpop.proofsByPath['/token'] ?? 0;
    // A new endpoint's prover holds no nonce yet: challenged once, then accepted (two proofs).
    const endpoint = oauth2Endpoint({ issuer: nonceServer.issuer, clientId: LOGIN_CLIENT.clientId, dpop: createDpopProver({ keyPair }) });
    const refreshed = (await endpoint.refresh(tokens.refresh_token as string)) as Record<string, unknown>;
    expect(refreshed.token_type).toBe('DPoP');
    expect(nonceServer.dpop.nonceChallenges - challengesBefore).toBe(1);
    expect((nonceServer.dpop.proofsByPath['/token'] ?? 0) - proofsBefore).toBe(2);

    // The next refresh carries the nonce the last response gave: no challenge, one proof.
    await endpoint.refresh(refreshed.refresh_token as string);
    expect(nonceServer.dpop.nonceChallenges - challengesBefore).toBe(1);
    expect((nonceServer.dpop.proofsByPath['/token'] ?? 0) - proofsBefore).toBe(3);
  });

  it('a replayed proof is refused by the server and reported as a clear error; a fresh proof then works', async () => {
    const keyPair = await generateDpopKeyPair();
    const tokens = await boundLogin(server, keyPair);
    let captured: string | undefined;
    let replay = false;
    const replaying: typeof fetch = async (input, init) => {
      const request = new Request(input, init);
      if (replay && captured) request.headers.set('dpop', captured);
      else captured = request.headers.get('dpop') ?? undefined;
      return fetch(request);
    };
    const endpoint = oauth2Endpoint({ issuer: server.issuer, clientId: LOGIN_CLIENT.clientId, dpop: createDpopProver({ keyPair }), fetch: replaying });
    const first = (await endpoint.refresh(tokens.refresh_token as string)) as Record<string, unknown>;

    replay = true;
    const error = await endpoint.refresh(first.refresh_token as string).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_grant', status: 400 });
    expect((error as Error).message).toMatch(/a DPoP proof was sent: the server may have refused the proof \(replayed/);
    expect(server.grantErrors.at(-1)).toBe('DPoP proof JWT Replay detected');
    expect(JSON.stringify(error)).not.toContain(first.refresh_token as string);

    // The refused request spent nothing: the same refresh token with a fresh proof is accepted.
    replay = false;
    await expect(endpoint.refresh(first.refresh_token as string)).resolves.toMatchObject({ token_type: 'DPoP' });
  });

  it('authFetch and kyAuth call a DPoP resource (userinfo) with a fresh proof per request, answering use_dpop_nonce once', async () => {
    const keyPair = await generateDpopKeyPair();
    const tokens = await boundLogin(nonceServer, keyPair);
    const manager = createTokenManager({ endpoint: oauth2Endpoint({ issuer: nonceServer.issuer, clientId: LOGIN_CLIENT.clientId, dpop: createDpopProver({ keyPair }) }) });
    await manager.setToken('default', tokens);
    const seen: Array<{ authorization: string | null; proof: string | null; status: number }> = [];
    const recording: typeof fetch = async (input, init) => {
      const request = new Request(input, init);
      const response = await fetch(request);
      seen.push({ authorization: request.headers.get('authorization'), proof: request.headers.get('dpop'), status: response.status });
      return response;
    };
    const challengesBefore = nonceServer.dpop.nonceChallenges;
    const proofsBefore = nonceServer.dpop.proofsByPath['/me'] ?? 0;

    const api = authFetch(manager, { fetch: recording });
    const me = await api(`${nonceServer.issuer}/me`);
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ sub: 'alice' });
    expect((await api(`${nonceServer.issuer}/me`)).status).toBe(200);
    const viaKy = await ky.extend({ ...kyAuth(manager, { fetch: recording }), retry: 0 }).get(`${nonceServer.issuer}/me`).json();
    expect(viaKy).toMatchObject({ sub: 'alice' });

    // The prover had no nonce for the server: the first request was challenged, retried once with
    // the nonce; the later ones carried the newest nonce the server handed out.
    expect(seen.map((s) => s.status)).toEqual([401, 200, 200, 200]);
    expect(seen.every((s) => s.authorization === `DPoP ${tokens.access_token as string}`)).toBe(true);
    expect(new Set(seen.map((s) => s.proof)).size).toBe(4);
    expect((nonceServer.dpop.proofsByPath['/me'] ?? 0) - proofsBefore).toBe(4);
    expect(nonceServer.dpop.nonceChallenges - challengesBefore).toBe(1);
    await manager.stop();
  });
});
