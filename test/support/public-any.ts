/**
 * Finds `any` in the public types of the built package: every export of every entry point is walked
 * through the type checker (properties, call and construct signatures, index signatures, type
 * arguments, unions), so an `any` that arrives through a library type (e.g. xstate's `AnyActorRef`,
 * which is `ActorRef<any, any, any>`) is found as well as one written in our own declarations.
 * Types declared outside the package (xstate, ky, lib) are not walked into, only their type arguments;
 * members an own type inherits from them are theirs too.
 */
import { sep } from 'node:path';
import ts from 'typescript';

const MAX_DEPTH = 10;

/**
 * `any` that xstate itself writes into every actor logic type, which no user of ours can see or
 * supply: `AnyActorSystem` (`ActorSystem<any>`), the type of an actor's `system`, a type argument
 * of `PromiseActorLogic` and so of our machine's children. Anything else from a library counts.
 */
const LIBRARY_OWN_ANY = new Map([
  ['AnyActorSystem', '/node_modules/xstate/'],
  // React's own: `ReactNode` holds `ReactElement<any>` and friends; `children` of our provider is it.
  ['ReactNode', '/node_modules/@types/react/'],
]);

export function anyInPublicTypes(program: ts.Program, entryPointsFile: string, packageRoot: string): string[] {
  const checker = program.getTypeChecker();
  const file = program.getSourceFile(entryPointsFile);
  if (!file) throw new Error(`${entryPointsFile} is not in the program`);
  // The compiler reports file names with forward slashes.
  const ownDist = `${packageRoot.split(sep).join('/')}/dist/`;
  const isOwn = (symbol: ts.Symbol | undefined): boolean =>
    symbol?.declarations?.some((d) => d.getSourceFile().fileName.startsWith(ownDist)) ?? false;
  const isLibraryOwnAny = (symbol: ts.Symbol): boolean => {
    const home = LIBRARY_OWN_ANY.get(symbol.getName());
    return home !== undefined && (symbol.declarations?.some((d) => d.getSourceFile().fileName.includes(home)) ?? false);
  };
  const found = new Set<string>();
  const seen = new Set<ts.Type>();

  function walk(type: ts.Type, path: string, depth: number): void {
    if (type.aliasSymbol && isLibraryOwnAny(type.aliasSymbol)) return;
    if (type.flags & ts.TypeFlags.Any) {
      found.add(path);
      return;
    }
    if (depth > MAX_DEPTH || seen.has(type)) return;
    seen.add(type);
    if (type.isUnionOrIntersection()) {
      for (const part of type.types) walk(part, path, depth + 1);
      return;
    }
    for (const arg of type.aliasTypeArguments ?? []) walk(arg, `${path}<${checker.typeToString(arg).slice(0, 60)}>`, depth + 1);
    if (type.flags & ts.TypeFlags.Object && (type as ts.ObjectType).objectFlags & ts.ObjectFlags.Reference) {
      for (const arg of checker.getTypeArguments(type as ts.TypeReference)) walk(arg, `${path}<${checker.typeToString(arg).slice(0, 60)}>`, depth + 1);
    }
    if (!isOwn(type.getSymbol()) && !isOwn(type.aliasSymbol)) return;
    for (const property of checker.getPropertiesOfType(type)) {
      // Members inherited from a library type (`body` of lib.dom's RequestInit, whose BodyInit has
      // `ReadableStream<any>`) are the library's declarations, not ours.
      if (!isOwn(property)) continue;
      walk(checker.getTypeOfSymbol(property), `${path}.${property.getName()}`, depth + 1);
    }
    for (const kind of [ts.SignatureKind.Call, ts.SignatureKind.Construct]) {
      for (const signature of checker.getSignaturesOfType(type, kind)) {
        for (const parameter of signature.getParameters()) {
          walk(checker.getTypeOfSymbol(parameter), `${path}(${parameter.getName()})`, depth + 1);
        }
        walk(signature.getReturnType(), `${path}()`, depth + 1);
      }
    }
    for (const info of checker.getIndexInfosOfType(type)) walk(info.type, `${path}[]`, depth + 1);
  }

  for (const statement of file.statements) {
    if (!ts.isImportDeclaration(statement)) continue;
    const entry = (statement.moduleSpecifier as ts.StringLiteral).text;
    const moduleSymbol = checker.getSymbolAtLocation(statement.moduleSpecifier);
    if (!moduleSymbol) throw new Error(`${entry} did not resolve`);
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const name = `${entry} › ${exported.getName()}`;
      if (symbol.flags & ts.SymbolFlags.Value) walk(checker.getTypeOfSymbol(symbol), name, 0);
      if (symbol.flags & ts.SymbolFlags.Type) walk(checker.getDeclaredTypeOfSymbol(symbol), name, 0);
    }
  }
  return [...found].sort();
}
