/**
 * Just enough of vitest's API to run a shared suite (e.g. test/support/storage-contract.ts) inside a
 * browser page: bundle the suite with `alias: { vitest: <this file> }` (see `bundleForBrowser`),
 * register it, then `await runRegistered()` in the page and hand the results back to the Node-side
 * vitest test. `expect` is vitest's own (`@vitest/expect` on chai), so assertions and messages are
 * the suite's, not copies. Supported: describe (+ runIf), it (+ context.skip), beforeEach,
 * afterEach, expect, vi.waitFor.
 */
import * as chai from 'chai';
import { JestAsymmetricMatchers, JestChaiExpect, JestExtend } from '@vitest/expect';

chai.use(JestExtend);
chai.use(JestChaiExpect);
chai.use(JestAsymmetricMatchers);

type Hook = () => unknown;
interface TestContext {
  skip(): never;
}
type TestBody = (context: TestContext) => unknown;

interface Suite {
  name: string;
  enabled: boolean;
  beforeEach: Hook[];
  afterEach: Hook[];
  children: Array<Suite | Test>;
  parent?: Suite;
}
interface Test {
  name: string;
  body: TestBody;
  suite: Suite;
}

export interface TestResult {
  name: string;
  status: 'passed' | 'failed' | 'skipped';
  error?: string;
  ms: number;
}

const newRoot = (): Suite => ({ name: '', enabled: true, beforeEach: [], afterEach: [], children: [] });
let root = newRoot();
let current = root;

class Skipped extends Error {}

function addSuite(name: string, body: () => void, enabled: boolean): void {
  const suite: Suite = { name, enabled, beforeEach: [], afterEach: [], children: [], parent: current };
  current.children.push(suite);
  const outer = current;
  current = suite;
  try {
    body();
  } finally {
    current = outer;
  }
}

export const describe = Object.assign((name: string, body: () => void) => addSuite(name, body, true), {
  runIf: (condition: unknown) => (name: string, body: () => void) => addSuite(name, body, Boolean(condition)),
});

export function it(name: string, body: TestBody): void {
  current.children.push({ name, body, suite: current });
}
export const test = it;

export function beforeEach(hook: Hook): void {
  current.beforeEach.push(hook);
}
export function afterEach(hook: Hook): void {
  current.afterEach.push(hook);
}

export const expect = (value: unknown, message?: string) => chai.expect(value, message);

export const vi = {
  /** Retries `check` until it stops throwing (or its promise stops rejecting), like vitest's. */
  async waitFor<T>(check: () => T | Promise<T>, options: { timeout?: number; interval?: number } | number = {}): Promise<T> {
    const { timeout = 1_000, interval = 50 } = typeof options === 'number' ? { timeout: options } : options;
    const deadline = Date.now() + timeout;
    for (;;) {
      try {
        return await check();
      } catch (error) {
        if (Date.now() >= deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, interval));
      }
    }
  },
};

/** Forgets everything registered so far (a page may register and run several suites in turn). */
export function resetRegistry(): void {
  root = newRoot();
  current = root;
}

/** Runs the registered tests in order, each with its suites' hooks; never throws. */
export async function runRegistered(options: { timeoutMs?: number } = {}): Promise<TestResult[]> {
  const results: TestResult[] = [];
  const timeoutMs = options.timeoutMs ?? 15_000;
  const walk = async (suite: Suite, path: string[], enabled: boolean): Promise<void> => {
    for (const child of suite.children) {
      if ('body' in child) await runOne(child, [...path, child.name].join(' > '), enabled, timeoutMs, results);
      else await walk(child, [...path, child.name], enabled && child.enabled);
    }
  };
  await walk(root, [], true);
  return results;
}

async function runOne(test: Test, name: string, enabled: boolean, timeoutMs: number, results: TestResult[]): Promise<void> {
  if (!enabled) {
    results.push({ name, status: 'skipped', ms: 0 });
    return;
  }
  const suites: Suite[] = [];
  for (let s: Suite | undefined = test.suite; s; s = s.parent) suites.unshift(s);
  const started = Date.now();
  let error: unknown;
  let skipped = false;
  const ran: Suite[] = [];
  try {
    for (const suite of suites) {
      ran.push(suite);
      for (const hook of suite.beforeEach) await hook();
    }
    await withTimeout(
      Promise.resolve().then(() =>
        test.body({
          skip: () => {
            throw new Skipped();
          },
        }),
      ),
      timeoutMs,
    );
  } catch (e) {
    if (e instanceof Skipped) skipped = true;
    else error = e;
  }
  for (const suite of ran.reverse()) {
    for (const hook of suite.afterEach) {
      try {
        await hook();
      } catch (e) {
        error ??= e;
      }
    }
  }
  const ms = Date.now() - started;
  if (skipped && error === undefined) results.push({ name, status: 'skipped', ms });
  else if (error === undefined) results.push({ name, status: 'passed', ms });
  else results.push({ name, status: 'failed', error: error instanceof Error ? `${error.name}: ${error.message}` : String(error), ms });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
