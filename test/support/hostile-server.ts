/**
 * A token, revocation and discovery server on loopback that misbehaves on purpose: each test sets
 * how it answers (`answer`), and may echo the request back as debugging gateways do. Real HTTP over
 * a real socket (node:http), so the client's transport, charset handling and headers are exercised.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

export type Answer = (request: SeenRequest, response: ServerResponse) => void;

export interface HostileServer {
  readonly origin: string;
  readonly tokenUrl: string;
  readonly revocationUrl: string;
  /** How the next requests are answered (default: a 500 with an empty body). */
  answer: Answer;
  readonly requests: SeenRequest[];
  close(): Promise<void>;
}

/** The request as an echoing gateway prints it: request line, every header, the body. */
export function echoOf(request: SeenRequest): string {
  const headers = Object.entries(request.headers).map(([name, value]) => `${name}: ${[value].flat().join(', ')}`);
  return `${request.method} ${request.path}\r\n${headers.join('\r\n')}\r\n\r\n${request.body}`;
}

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(typeof body === 'string' ? body : JSON.stringify(body));
}

export async function startHostileServer(): Promise<HostileServer> {
  const requests: SeenRequest[] = [];
  const state: { answer: Answer } = {
    answer: (_request, response) => {
      response.writeHead(500);
      response.end();
    },
  };
  const server: Server = createServer((incoming: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const request: SeenRequest = {
        method: incoming.method ?? 'GET',
        path: incoming.url ?? '/',
        headers: { ...incoming.headers },
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(request);
      try {
        state.answer(request, response);
      } catch {
        response.destroy();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    tokenUrl: `${origin}/token`,
    revocationUrl: `${origin}/revoke`,
    get answer() {
      return state.answer;
    },
    set answer(answer: Answer) {
      state.answer = answer;
    },
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
