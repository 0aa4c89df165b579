/**
 * The walk behind "no public type is `any`" (test/support/public-any.ts) finds an `any` wherever a
 * user of ours would meet it, and nothing in an API without one. A small package is compiled in
 * memory, so the proof does not depend on today's dist/.
 */
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { anyInPublicTypes } from '../../support/public-any.js';

const ROOT = '/virtual/pkg';
const ENTRY = '/virtual/consumer/entry.ts';

function compile(declarations: string): ts.Program {
  const files = new Map([
    [`${ROOT}/dist/index.d.ts`, declarations],
    [ENTRY, `import * as e0 from '../pkg/dist/index.js';\nexport const all = [e0];\n`],
  ]);
  const options: ts.CompilerOptions = { strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, types: [], lib: ['lib.es2022.d.ts'] };
  const host = ts.createCompilerHost(options);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (f) => files.has(f) || fileExists.call(host, f);
  host.readFile = (f) => files.get(f) ?? readFile.call(host, f);
  host.directoryExists = (d) => d.startsWith('/virtual/') || ts.sys.directoryExists(d);
  host.getSourceFile = (f, v, ...rest) => {
    const text = files.get(f);
    return text === undefined ? getSourceFile.call(host, f, v, ...rest) : ts.createSourceFile(f, text, v, true);
  };
  return ts.createProgram({ rootNames: [ENTRY], options, host });
}

describe('finding any in public types', () => {
  it('finds none in an API without any', () => {
    const program = compile(`
      export interface Status { readonly state: 'valid' | 'idle'; readonly at?: number; readonly error?: { code: string } }
      export declare function status(key?: string): Status;
      export declare function all(): Promise<ReadonlyArray<Status>>;
      export type Listener = (event: { type: 'state'; status: Status }) => void;
      export interface Options extends PromiseLike<string> { readonly extra: number }
    `);
    expect(program.getSemanticDiagnostics()).toEqual([]);
    expect(anyInPublicTypes(program, ENTRY, ROOT)).toEqual([]);
  });

  it('finds an any in a property, a parameter, a return type and a type argument, at depth', () => {
    const program = compile(`
      export interface Box<T> { readonly value: T }
      export interface Deep { readonly nested: { readonly list: ReadonlyArray<{ readonly v: any }> } }
      export declare function listen(cb: (event: any) => void): void;
      export declare function load(): Promise<Box<any>>;
      export declare const table: Record<string, any>;
    `);
    expect(anyInPublicTypes(program, ENTRY, ROOT)).toEqual([
      '../pkg/dist/index.js › Deep.nested.list<{ readonly v: any; }>.v',
      '../pkg/dist/index.js › listen(cb)(event)',
      '../pkg/dist/index.js › load()<Box<any>>.value',
      '../pkg/dist/index.js › load()<Box<any>><any>',
      '../pkg/dist/index.js › table<any>',
    ]);
  });
});
