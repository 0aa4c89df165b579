/**
 * CLI settings and the offline path's module graph. Settings: the default store location (XDG),
 * and the client secret's precedence. Module graph: what `token get` loads before it knows that a
 * refresh is due must not include XState, ky, the manager or the endpoint adapter (R2: no endpoint
 * client is even constructed), checked on the static import graph esbuild sees.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { defaultStorePath, resolveSettings, type RawOptions } from '../../../adapters/cli/settings.js';

const cliSource = (raw: RawOptions, sources: Partial<Record<keyof RawOptions, string>> = {}) =>
  resolveSettings(raw, (name) => sources[name] ?? (raw[name] === undefined ? undefined : 'cli'), {});

describe('CLI settings', () => {
  it('stores tokens under $XDG_CONFIG_HOME, else ~/.config (a relative XDG_CONFIG_HOME is ignored)', () => {
    expect(defaultStorePath({ XDG_CONFIG_HOME: '/x/cfg' }, 'linux', '/home/u')).toBe('/x/cfg/token-lifecycle/tokens.json');
    expect(defaultStorePath({}, 'linux', '/home/u')).toBe('/home/u/.config/token-lifecycle/tokens.json');
    expect(defaultStorePath({ XDG_CONFIG_HOME: 'relative' }, 'linux', '/home/u')).toBe('/home/u/.config/token-lifecycle/tokens.json');
    expect(defaultStorePath({ XDG_CONFIG_HOME: '' }, 'darwin', '/Users/u')).toBe('/Users/u/.config/token-lifecycle/tokens.json');
  });

  it('defaults: 5 min threshold, key "default", file store', () => {
    const settings = resolveSettings({}, () => undefined, { XDG_CONFIG_HOME: '/cfg' });
    expect(settings).toMatchObject({ thresholdMs: 300_000, key: 'default', store: { kind: 'file', path: '/cfg/token-lifecycle/tokens.json' } });
  });

  it('the client secret: a flag beats the environment; two of one rank are refused', () => {
    expect(cliSource({ clientSecret: 'a', clientSecretFile: '/f' }, { clientSecret: 'env' }).endpoint.secret).toEqual({ kind: 'file', path: '/f' });
    expect(cliSource({ clientSecret: 'a', clientSecretFile: '/f' }, { clientSecretFile: 'env' }).endpoint.secret).toEqual({ kind: 'value', value: 'a' });
    expect(() => cliSource({ clientSecret: 'a', clientSecretFile: '/f' })).toThrow(/give one/);
    expect(() => cliSource({ clientSecret: 'a', clientSecretFile: '/f' }, { clientSecret: 'env', clientSecretFile: 'env' })).toThrow(/CLIENT_SECRET and CLIENT_SECRET_FILE/);
    expect(cliSource({}).endpoint.secret).toEqual({ kind: 'none' });
  });

  it('redis needs a URL; an empty value counts as unset', () => {
    expect(() => cliSource({ store: 'redis' })).toThrow(/--redis-url or REDIS_URL/);
    expect(cliSource({ store: 'redis', redisUrl: 'redis://127.0.0.1:6379' }).store).toEqual({ kind: 'redis', url: 'redis://127.0.0.1:6379' });
    expect(cliSource({ issuer: '' }).endpoint.issuer).toBeUndefined();
  });

  it('keychain keeps its metadata in keychain-tokens.json beside tokens.json (never the file store\'s own file), or --store-path', () => {
    const env = { XDG_CONFIG_HOME: '/cfg' };
    expect(resolveSettings({ store: 'keychain' }, () => 'env', env).store).toEqual({ kind: 'keychain', path: '/cfg/token-lifecycle/keychain-tokens.json' });
    expect(cliSource({ store: 'keychain', storePath: '/s/meta.json' }).store).toEqual({ kind: 'keychain', path: '/s/meta.json' });
    expect(() => cliSource({ store: 'vault' })).toThrow(/--store must be file, keychain or redis/);
  });
});

describe('the offline token get loads no endpoint client (R2)', () => {
  it('nothing heavy is reachable from the bin through static imports', async () => {
    const entry = fileURLToPath(new URL('../../../adapters/cli/main.ts', import.meta.url));
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      metafile: true,
      platform: 'node',
      format: 'esm',
      outdir: 'out',
      packages: 'external',
      logLevel: 'silent',
    });
    const inputs = result.metafile.inputs;
    const staticGraph = new Set<string>();
    const visit = (file: string): void => {
      if (staticGraph.has(file)) return;
      staticGraph.add(file);
      for (const imported of inputs[file]?.imports ?? []) {
        if (imported.kind === 'import-statement') visit(imported.path);
      }
    };
    visit(Object.keys(inputs).find((file) => file.endsWith('adapters/cli/main.ts')) as string);
    // Commands are imported when they run; `token get`'s module and its static imports are the offline path.
    expect([...staticGraph].some((file) => file.endsWith('adapters/cli/commands/get.ts'))).toBe(false);
    const lazyGet = Object.keys(inputs).find((file) => file.endsWith('adapters/cli/commands/get.ts')) as string;
    visit(lazyGet);
    const offline = [...staticGraph];
    for (const forbidden of ['xstate', 'ky', 'ioredis', 'proper-lockfile', 'machines/manager/manager.ts', 'machines/lifecycle/machine.ts', 'adapters/oauth2/', 'adapters/storage/file/file-storage.ts']) {
      expect(offline.filter((file) => file.includes(forbidden))).toEqual([]);
    }
    expect(offline.some((file) => file.endsWith('adapters/cli/offline.ts'))).toBe(true);
    expect(offline.some((file) => file.endsWith('machines/lifecycle/refresh-policy.ts'))).toBe(true);
  });
});
