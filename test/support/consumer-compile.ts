/**
 * Compiles the consumer fixture (test/fixtures/consumer) with the TypeScript API, the way `tsc -p`
 * does, against the built package (dist/ through package.json `exports`, reached by a
 * node_modules/token-lifecycle symlink to the repository root). Besides the fixture's own files, the
 * program gets one generated file importing every public entry point, so a new entry point is
 * compiled by every configuration without anyone editing the fixture. Parsed source files are shared
 * between configurations (lib and .d.ts parsing is most of the cost).
 */
import { existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURE_DIR = join(REPO_ROOT, 'test/fixtures/consumer');
export const ENTRY_POINTS_FILE = join(FIXTURE_DIR, 'src/every-entry-point.generated.ts');

/** The subpaths of package.json `exports` that are modules (not `./package.json`). */
export function publicEntryPoints(): string[] {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { name: string; exports: Record<string, unknown> };
  return Object.keys(pkg.exports)
    .filter((subpath) => !subpath.endsWith('.json'))
    .map((subpath) => (subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`));
}

/** `import * as e0 from '<entry>'` for each entry point, each kept alive by an export. */
export function entryPointsSource(entries: readonly string[]): string {
  const lines = entries.map((entry, i) => `import * as e${i} from '${entry}';`);
  lines.push(`export const entryPoints = [${entries.map((_, i) => `e${i}`).join(', ')}] as const;`);
  return `${lines.join('\n')}\n`;
}

/** node_modules/token-lifecycle → the repository root (created when missing; node_modules is not committed). */
export function linkPackage(): void {
  const link = join(FIXTURE_DIR, 'node_modules/token-lifecycle');
  if (existsSync(link) || isDanglingLink(link)) return;
  mkdirSync(dirname(link), { recursive: true });
  symlinkSync(relative(dirname(link), REPO_ROOT), link, 'dir');
}

function isDanglingLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

export interface Compiled {
  readonly config: string;
  readonly program: ts.Program;
  /** Formatted diagnostics (empty when it type-checks). */
  readonly errors: string[];
}

const sourceCache = new Map<string, ts.SourceFile | undefined>();

/** Compiles one fixture configuration (`tsconfig.<name>.json`), with the generated entry-points file. */
export function compileConsumer(name: string, generated: string): Compiled {
  const configPath = join(FIXTURE_DIR, `tsconfig.${name}.json`);
  const parsed = ts.getParsedCommandLineOfConfigFile(configPath, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (!parsed) throw new Error(`cannot read ${configPath}`);
  const host = ts.createCompilerHost(parsed.options);
  const readFile = host.readFile.bind(host);
  host.readFile = (file) => (resolve(file) === ENTRY_POINTS_FILE ? generated : readFile(file));
  host.fileExists = ((exists) => (file: string) => resolve(file) === ENTRY_POINTS_FILE || exists(file))(host.fileExists.bind(host));
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (file, languageVersion, onError, shouldCreate) => {
    if (resolve(file) === ENTRY_POINTS_FILE) return ts.createSourceFile(file, generated, languageVersion, true);
    const options = typeof languageVersion === 'object' ? languageVersion : { languageVersion };
    const cacheKey = `${file}|${options.languageVersion}|${options.impliedNodeFormat ?? ''}`;
    if (!sourceCache.has(cacheKey)) sourceCache.set(cacheKey, getSourceFile(file, languageVersion, onError, shouldCreate));
    return sourceCache.get(cacheKey);
  };
  const rootNames = [...new Set([...parsed.fileNames, ENTRY_POINTS_FILE])];
  const program = ts.createProgram({ rootNames, options: parsed.options, host });
  const diagnostics = ts.getPreEmitDiagnostics(program);
  const errors = diagnostics.map((d) => ts.formatDiagnostic(d, {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => REPO_ROOT,
    getNewLine: () => '\n',
  }).trim());
  return { config: name, program, errors };
}
