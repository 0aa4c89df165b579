/**
 * Runs the service example: `npm run build && node dist/examples/service/main.js`, configured by
 * environment: DATABASE_URL, ISSUER, CLIENT_ID, CLIENT_SECRET, API_URL, TOKEN_SEALING_KEY (32
 * bytes, base64: `openssl rand -base64 32`), TOKEN_SEALING_KEY_ID, PORT.
 */
import { startService } from './service.js';

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

const service = await startService({
  databaseUrl: env('DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/test'),
  schema: env('SCHEMA', 'service_example'),
  sealingKeys: [{ id: env('TOKEN_SEALING_KEY_ID', 'k1'), secret: env('TOKEN_SEALING_KEY') }],
  issuer: env('ISSUER'),
  clientId: env('CLIENT_ID'),
  clientSecret: env('CLIENT_SECRET'),
  apiUrl: env('API_URL'),
  port: Number(env('PORT', '8080')),
  onStartError: (code) => console.warn(`some stored users did not load at start-up (${code}); they load on first use`),
});
console.log(`service listening on ${service.url}`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void service.close().then(() => process.exit(0)));
}
