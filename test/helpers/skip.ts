import type { TestContext } from 'node:test';

/**
 * Skips loudly: the reason goes to stderr as well as into the test report, so a skipped
 * real-data or kernel test is never silent.
 */
export function loudSkip(t: TestContext, reason: string): void {
  process.stderr.write(`SKIP ${t.name}: ${reason}\n`);
  t.skip(reason);
}
