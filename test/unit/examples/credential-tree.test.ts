/**
 * The live view's model of derived credentials (R22, issue 20): which credentials are shown as
 * children of which, in which order, built from `status()` answers; DOM-free. The last test builds
 * the links from a real manager's status() after `derive()`.
 */
import { describe, expect, it } from 'vitest';
import { createTokenManager, derivedCredentials } from '../../../index.js';
import { manualClock, simulatedEndpoint } from '../../../testing/index.js';
import { childrenOf, credentialTree } from '../../../examples/browser/credential-tree.js';

describe('the live view\'s credential tree', () => {
  it('puts each derived credential right under its parent, one level deeper, naming the parent', () => {
    const rows = credentialTree([{ key: 'api', parent: 'user' }, { key: 'user' }, { key: 'other' }]);
    expect(rows).toEqual([
      { key: 'user', depth: 0 },
      { key: 'api', depth: 1, parent: 'user' },
      { key: 'other', depth: 0 },
    ]);
  });

  it('nests a credential derived from a derived one two levels deep, siblings in the given order', () => {
    const rows = credentialTree([
      { key: 'user' },
      { key: 'billing', parent: 'user' },
      { key: 'billing-read', parent: 'billing' },
      { key: 'search', parent: 'user' },
    ]);
    expect(rows.map((r) => `${'  '.repeat(r.depth)}${r.key}`)).toEqual(['user', '  billing', '    billing-read', '  search']);
    expect(childrenOf(rows, 'user')).toEqual(['billing', 'search']);
    expect(childrenOf(rows, 'billing')).toEqual(['billing-read']);
    expect(childrenOf(rows, 'search')).toEqual([]);
  });

  it('shows a credential whose parent is not in the view at the top, still naming its parent', () => {
    expect(credentialTree([{ key: 'api', parent: 'user' }])).toEqual([{ key: 'api', depth: 0, parent: 'user' }]);
  });

  it('loses no credential to a cycle and shows each once', () => {
    const rows = credentialTree([{ key: 'a', parent: 'b' }, { key: 'b', parent: 'a' }, { key: 'c' }]);
    expect(rows.map((r) => r.key).sort()).toEqual(['a', 'b', 'c']);
  });

  it('reads the parent from a real manager\'s status() after derive()', async () => {
    const clock = manualClock();
    const endpoint = simulatedEndpoint({ clock, expiresIn: 3600, initialRefreshToken: 'rt-0' });
    const manager = createTokenManager({ endpoint, clock, backgroundRefresh: false, derivedCredentials: derivedCredentials() });
    await manager.setToken('user', { access_token: 'parent-0', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-0' });
    await manager.derive('api', { from: 'user', audience: 'https://api.example' });
    const links = ['api', 'user'].map((key) => {
      const parent = manager.status(key).parent;
      return parent === undefined ? { key } : { key, parent };
    });
    expect(credentialTree(links)).toEqual([
      { key: 'user', depth: 0 },
      { key: 'api', depth: 1, parent: 'user' },
    ]);
    await manager.stop();
  });
});
