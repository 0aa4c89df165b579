import { createActor, createMachine } from 'xstate';
import { describe, expect, it } from 'vitest';
import { isSecretKey, redact, REDACTED } from '../../../adapters/inspect/index.js';
import { InvalidGrantError } from '../../../machines/lifecycle/errors.js';

const b64url = (s: string): string => Buffer.from(s).toString('base64url');
const JWT = `${b64url('{"alg":"RS256","typ":"JWT"}')}.${b64url('{"sub":"alice","jti":"q1"}')}.c2lnbmF0dXJl_-x`;
const JWE = `${b64url('{"alg":"RSA-OAEP","enc":"A256GCM"}')}.a2V5.aXY.Y2lwaGVy.dGFn`;

describe('redact', () => {
  it('redacts secret-named keys in any spelling, keeps the rest', () => {
    const input = {
      access_token: 'a1',
      accessToken: 'a2',
      REFRESH_TOKEN: 'r1',
      'refresh-token': 'r2',
      id_token: 'i1',
      token: 't1',
      client_secret: 's1',
      clientSecret: 's2',
      Authorization: 'x',
      password: 'p',
      client_assertion: 'ca',
      assertion: 'as',
      code_verifier: 'cv',
      token_type: 'Bearer',
      expires_in: 3600,
      scope: 'openid',
      code: 'invalid_grant',
    };
    expect(redact(input)).toEqual({
      access_token: REDACTED,
      accessToken: REDACTED,
      REFRESH_TOKEN: REDACTED,
      'refresh-token': REDACTED,
      id_token: REDACTED,
      token: REDACTED,
      client_secret: REDACTED,
      clientSecret: REDACTED,
      Authorization: REDACTED,
      password: REDACTED,
      client_assertion: REDACTED,
      assertion: REDACTED,
      code_verifier: REDACTED,
      token_type: 'Bearer',
      expires_in: 3600,
      scope: 'openid',
      code: 'invalid_grant',
    });
    expect(['tokenType', 'tokenUrl', 'expiresAt', 'code', 'key'].filter(isSecretKey)).toEqual([]);
  });

  it('deep-copies nested objects and arrays without touching the input', () => {
    const input = { a: [{ refreshToken: 'r' }, { list: [{ password: 'p', ok: 1 }] }], b: { c: { d: 'keep' } } };
    const before = structuredClone(input);
    const out = redact(input) as typeof input;
    expect(out).toEqual({ a: [{ refreshToken: REDACTED }, { list: [{ password: REDACTED, ok: 1 }] }], b: { c: { d: 'keep' } } });
    expect(out).not.toBe(input);
    expect(out.b).not.toBe(input.b);
    expect(input).toEqual(before);
  });

  it('under a secret key, every nested string goes and numbers/booleans stay (token metadata)', () => {
    expect(redact({ token: { hasAccessToken: true, expiresAt: 5, version: 2, value: 'v', parts: ['x', 7] } })).toEqual({
      token: { hasAccessToken: true, expiresAt: 5, version: 2, value: REDACTED, parts: [REDACTED, 7] },
    });
    expect(redact({ password: 1234, hasRefreshToken: false, idToken: null })).toEqual({ password: REDACTED, hasRefreshToken: false, idToken: null });
  });

  it('is cycle-safe and keeps shared (non-cyclic) references', () => {
    const shared = { n: 1 };
    const node: Record<string, unknown> = { shared, again: shared, accessToken: 'a' };
    node.self = node;
    node.list = [node, { back: node }];
    const out = redact(node) as Record<string, unknown>;
    expect(out.self).toBe('[circular]');
    expect(out.list).toEqual(['[circular]', { back: '[circular]' }]);
    expect(out.again).toEqual({ n: 1 });
    expect(out.accessToken).toBe(REDACTED);
    const deep: Record<string, unknown> = {};
    let cursor = deep;
    for (let i = 0; i < 100; i++) cursor = (cursor.next = {}) as Record<string, unknown>;
    expect(JSON.stringify(redact(deep))).toContain('[too deep]');
  });

  it('redacts JWT-looking strings anywhere, alone or inside text, and leaves dotted names alone', () => {
    expect(redact({ note: JWT, list: [JWE] })).toEqual({ note: REDACTED, list: [REDACTED] });
    expect(redact(`token ${JWT} rejected`)).toBe(`token ${REDACTED} rejected`);
    expect(redact(`prefix.${JWT}`)).toBe(`prefix.${REDACTED}`);
    expect(redact(`https://idp/logout?id_token_hint=${JWT}&x=1`)).toBe(`https://idp/logout?id_token_hint=${REDACTED}&x=1`);
    for (const harmless of ['xstate.done.actor.refresh', 'xstate.after.untilRetry.token.degraded.retrying', 'eyes.wide.open', '1.2.3', 'a.b.c']) {
      expect(redact(harmless)).toBe(harmless);
    }
  });

  it('redacts Authorization credentials and secret pairs inside strings', () => {
    expect(redact('Bearer abc.DEF-123_~+/=')).toBe(`Bearer ${REDACTED}`);
    expect(redact({ headers: ['authorization: bearer xyz', 'Basic dXNlcjpwYXNz', 'DPoP q'] })).toEqual({
      headers: [`authorization: bearer ${REDACTED}`, `Basic ${REDACTED}`, `DPoP ${REDACTED}`],
    });
    expect(redact('grant_type=refresh_token&refresh_token=rt-9&client_id=app&client_secret=s3')).toBe(
      `grant_type=refresh_token&refresh_token=${REDACTED}&client_id=app&client_secret=${REDACTED}`,
    );
    expect(redact('https://app/cb?code=SplxlOBe&state=xyz')).toBe(`https://app/cb?code=${REDACTED}&state=xyz`);
    expect(redact('body {"access_token":"a\\"b","token_type":"Bearer"}')).toBe(`body {"access_token":"${REDACTED}","token_type":"Bearer"}`);
    expect(redact('failed with code=invalid_grant')).toBe('failed with code=invalid_grant');
  });

  it('copies errors as data, with secrets in their message and fields redacted', () => {
    const error = new InvalidGrantError({ status: 400, key: 'k', cause: new Error(`upstream said Bearer ${JWT}`) });
    const out = redact(error) as Record<string, unknown>;
    expect(out).toMatchObject({ name: 'InvalidGrantError', code: 'invalid_grant', key: 'k' });
    expect((out.cause as { message: string }).message).toBe(`upstream said Bearer ${REDACTED}`);
    expect(JSON.stringify(out)).not.toContain(JWT.split('.')[1]);
  });

  it('handles functions, maps, sets, dates, binary data and getters that throw', () => {
    const out = redact({
      fn: function named() {},
      map: new Map<unknown, unknown>([['refresh_token', 'r'], [1, 'one']]),
      set: new Set([JWT, 'ok']),
      date: new Date(0),
      bytes: new TextEncoder().encode('secret'),
      get boom(): never {
        throw new Error('no');
      },
    });
    expect(out).toEqual({
      fn: '[function named]',
      map: { refresh_token: REDACTED, 1: 'one' },
      set: [REDACTED, 'ok'],
      date: '1970-01-01T00:00:00.000Z',
      bytes: '[binary 6 bytes]',
      boom: '[unreadable]',
    });
  });

  it('replaces live actors with data-only stand-ins and never walks into them', () => {
    const machine = createMachine({ id: 'm', context: { accessToken: 'secret-in-context', n: 1 }, initial: 'a', states: { a: {} } });
    const actor = createActor(machine).start();
    const out = redact({ actorRef: actor, nested: { sourceRef: actor } }) as {
      actorRef: { id: string; sessionId: string; getSnapshot(): unknown; send(e: unknown): void; logic: { config: unknown } };
      nested: { sourceRef: unknown };
    };
    expect(out.actorRef).toMatchObject({ id: actor.id, sessionId: actor.sessionId });
    expect(out.nested.sourceRef).toBe(out.actorRef);
    expect(JSON.stringify(out)).toBe(JSON.stringify({ actorRef: { id: actor.id, sessionId: actor.sessionId }, nested: { sourceRef: { id: actor.id, sessionId: actor.sessionId } } }));
    expect(out.actorRef.getSnapshot()).toMatchObject({ value: 'a', context: { accessToken: REDACTED, n: 1 } });
    expect((out.actorRef.logic.config as { id: string }).id).toBe('m');
    expect(() => out.actorRef.send({ type: 'X' })).not.toThrow();
    expect(Object.isFrozen(out.actorRef)).toBe(true);
    // A snapshot is copied in its JSON form: no machine, no state nodes.
    const snapshot = redact(actor.getSnapshot()) as Record<string, unknown>;
    expect(snapshot).not.toHaveProperty('machine');
    expect(snapshot).not.toHaveProperty('_nodes');
    actor.stop();
  });
});
