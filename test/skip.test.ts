/**
 * The skip policy itself: CI sets BTFKIT_NO_SKIP=1, and there a test that cannot run (no bpf(),
 * no browser, no data) must fail the run instead of passing as skipped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const work = mkdtempSync(join(tmpdir(), 'btfkit-skip-'));
process.once('exit', () => rmSync(work, { recursive: true, force: true }));

function runSkippingTest(env: Record<string, string>): { status: number | null; out: string } {
  const helper = resolve('dist/test/helpers/skip.js');
  const file = join(work, 'skipper.test.mjs');
  writeFileSync(file, `import { test } from 'node:test';\nimport { loudSkip } from ${JSON.stringify(helper)};\ntest('needs a thing', (t) => loudSkip(t, 'no thing here'));\n`);
  const env2: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (!('BTFKIT_NO_SKIP' in env)) delete env2.BTFKIT_NO_SKIP;
  // Inside node --test, children inherit a marker that stops a nested runner.
  delete env2.NODE_TEST_CONTEXT;
  const r = spawnSync(process.execPath, [file], { encoding: 'utf8', env: env2 });
  return { status: r.status, out: r.stdout + r.stderr };
}

test('a test that cannot run skips loudly by default', () => {
  const r = runSkippingTest({});
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /SKIP needs a thing: no thing here/);
  assert.match(r.out, /# skipped 1/);
});

test('under BTFKIT_NO_SKIP=1 (CI) the same test fails', () => {
  const r = runSkippingTest({ BTFKIT_NO_SKIP: '1' });
  assert.notEqual(r.status, 0, r.out);
  assert.match(r.out, /BTFKIT_NO_SKIP=1 forbids skipping: no thing here/);
  assert.match(r.out, /# fail 1/);
});

test('.ci/run forbids skips', async () => {
  const { readFileSync } = await import('node:fs');
  assert.match(readFileSync('.ci/run', 'utf8'), /^\s*BTFKIT_NO_SKIP=1 BTFKIT_REQUIRE_DATA=1 npm test/m);
});
