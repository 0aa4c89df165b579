/**
 * The published .d.ts (dist/, reached through package.json `exports`) type-check for a consumer with
 * `strict` and `skipLibCheck: false`, under `moduleResolution` nodenext and bundler, with and without
 * the DOM lib (a Node project has no `RequestInfo`); and no public type is `any` (typed actors).
 * Needs a built dist/ (`npm ci` or `npm run build`).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { anyInPublicTypes } from '../../support/public-any.js';
import {
  compileConsumer,
  entryPointsSource,
  ENTRY_POINTS_FILE,
  linkPackage,
  publicEntryPoints,
  REPO_ROOT,
  type Compiled,
} from '../../support/consumer-compile.js';

const CONFIGS = ['nodenext-dom', 'nodenext-no-dom', 'bundler-dom', 'bundler-no-dom'] as const;
/** Bindings of browser frameworks: their frameworks' own types need the DOM lib, so only DOM consumers compile them. */
const DOM_ONLY_ENTRIES = new Set(['token-lifecycle/react', 'token-lifecycle/vue']);

describe('the published types, as a consumer compiles them', () => {
  const entries = publicEntryPoints();
  const compiled = new Map<string, Compiled>();

  beforeAll(() => {
    linkPackage();
    const withDom = entryPointsSource(entries);
    const withoutDom = entryPointsSource(entries.filter((entry) => !DOM_ONLY_ENTRIES.has(entry)));
    for (const config of CONFIGS) compiled.set(config, compileConsumer(config, config.endsWith('no-dom') ? withoutDom : withDom));
  }, 300_000);

  it('reaches every entry point of package.json exports', () => {
    expect(entries).toContain('token-lifecycle');
    expect(entries).toContain('token-lifecycle/adapters/http');
    expect(entries.length).toBeGreaterThanOrEqual(8);
  });

  it.each(CONFIGS)('type-check with strict, skipLibCheck false (%s)', (config) => {
    const result = compiled.get(config);
    expect(result?.errors).toEqual([]);
    // The program did load the package's declarations (not an empty or misresolved fixture).
    const ownDeclarations = result?.program.getSourceFiles().filter((f) => f.fileName.includes('/dist/') && f.fileName.endsWith('.d.ts') && !f.fileName.includes('node_modules'));
    expect(ownDeclarations?.length).toBeGreaterThan(20);
  });

  it('name no DOM-only type where a Node project without the DOM lib must resolve it', () => {
    const noDom = compiled.get('nodenext-no-dom');
    const lib = noDom?.program.getSourceFiles().map((f) => f.fileName).filter((f) => /lib\.dom\.d\.ts$/.test(f));
    expect(lib).toEqual([]);
  });

  it('have no `any` in any public type, at any depth we declare', () => {
    const program = compiled.get('nodenext-dom')?.program;
    if (!program) throw new Error('not compiled');
    expect(anyInPublicTypes(program, ENTRY_POINTS_FILE, REPO_ROOT)).toEqual([]);
  });
});
