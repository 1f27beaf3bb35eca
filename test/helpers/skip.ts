import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';

/**
 * Set (by .ci/run) where every test must run: a skip there means the machine lacks what the
 * test needs (bpf(), a browser, data, an oracle), and that must fail the run, not pass it.
 */
export const NO_SKIP = process.env.BTFKIT_NO_SKIP === '1';

/**
 * Skips loudly: the reason goes to stderr as well as into the test report, so a skipped
 * real-data or kernel test is never silent. Under BTFKIT_NO_SKIP=1 it fails the test instead.
 */
export function loudSkip(t: TestContext, reason: string): void {
  if (NO_SKIP) assert.fail(`${t.name} cannot run here and BTFKIT_NO_SKIP=1 forbids skipping: ${reason}`);
  process.stderr.write(`SKIP ${t.name}: ${reason}\n`);
  t.skip(reason);
}

/**
 * For a comparison with an oracle that cannot be installed here, only built by hand (libbpf
 * newer than any Debian 12 package: the guide forbids building upstream code in CI): the test is
 * reported as todo, with the reason on stderr, and counted as such (`# todo`), not as a skip
 * that BTFKIT_NO_SKIP would fail. Set the variable the reason names to run it.
 */
export function byHandOracle(t: TestContext, reason: string): void {
  process.stderr.write(`BY-HAND ${t.name}: ${reason}\n`);
  t.todo(reason);
}
