/**
 * Page for test/browser/testing-kit.test.ts: token-lifecycle/testing in the browser. Every generated
 * path runs on a real manager (manual clock, simulated endpoint), and the status it ends in is reported.
 */
import { lifecyclePaths } from '../../../testing/index.js';

export interface KitRun {
  readonly name: string;
  readonly target: string;
  readonly reached?: string;
  readonly error?: string;
}

async function runAll(): Promise<KitRun[]> {
  const runs: KitRun[] = [];
  for (const path of lifecyclePaths()) {
    const target = path.target.detail ? `${path.target.state}.${path.target.detail}` : path.target.state;
    try {
      const harness = await path.run();
      const status = harness.manager.status(harness.key);
      runs.push({ name: path.name, target, reached: status.detail ? `${status.state}.${status.detail}` : status.state });
      await harness.dispose();
    } catch (error) {
      runs.push({ name: path.name, target, error: String(error) });
    }
  }
  return runs;
}

declare global {
  interface Window {
    testingKitPage: { runAll: typeof runAll };
  }
}

window.testingKitPage = { runAll };
window.pageReady = true;
