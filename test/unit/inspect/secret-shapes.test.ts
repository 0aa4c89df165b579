/**
 * The redaction safety net (by shape) on the shapes issue 22 found it missing: credentials followed by
 * `%` or `,`, YAML, parenthesised and percent-encoded pairs, JSON inside a JSON string, single-quoted
 * JSON, header arrays, values in a Set.
 */
import { describe, expect, it } from 'vitest';
import { redact } from '../../../adapters/inspect/index.js';

const V = 'Vv9-SECRET_value~42';

const SHAPES: ReadonlyArray<[string, unknown]> = [
  ['Bearer followed by %', `Authorization: Bearer ${V}%2C more`],
  ['Bearer followed by ,', `headers: Bearer ${V},next`],
  ['Bearer, URL-encoded space', `auth=Bearer%20${V}`],
  ['YAML', `refresh_token: ${V}\nother: 1`],
  ['parenthesised pair', `(refresh_token=${V})`],
  ['percent-encoded name', `refresh%5Ftoken=${V}`],
  ['percent-encoded =', `refresh_token%3D${V}&x=1`],
  ['JSON inside a JSON string', JSON.stringify({ body: JSON.stringify({ refresh_token: V }) })],
  ['single-quoted JSON', `{'refresh_token': '${V}'}`],
  ['header arrays', [['authorization', `Token ${V}`]]],
  ['a Set of header pairs', new Set([['client_secret', V]])],
  ['a Set under a secret name', { refreshTokens: new Set([V]) }],
  ['a custom scheme after Authorization', `Authorization: Custom ${V}`],
];

describe('redact finds secrets in the shapes logs and echoing servers give them (issue 22, case 4)', () => {
  it.each(SHAPES)('%s', (_, value) => {
    const out = JSON.stringify(redact(value));
    expect(out).not.toContain(V);
    expect(out).toContain('[redacted]');
  });

  it('leaves ordinary text alone', () => {
    expect(redact('error: invalid_grant, status: 400 (see https://example.com/docs?page=2)')).toBe(
      'error: invalid_grant, status: 400 (see https://example.com/docs?page=2)',
    );
  });
});
