import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { REPO_ROOT } from './paths.js';

/** A C test helper built for this process, or why it cannot be built here. */
export type BuiltHelper = { path: string } | { skipped: string };

let workDir: string | undefined;
const builds = new Map<string, BuiltHelper>();

/** One scratch directory per test process for helper binaries and the blobs fed to them. */
export function scratchDir(): string {
  if (!workDir) {
    const dir = mkdtempSync(join(tmpdir(), 'btfkit-helpers-'));
    workDir = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return workDir;
}

/**
 * Builds `test/helpers/<name>.c` once per process (`cc -O2 -Wall`, with `-lbpf` for libbpf
 * oracles). A missing compiler, or a missing libbpf-dev for a libbpf oracle, is a reason to
 * skip; any other compile error is a bug in the helper and throws.
 */
export function buildCHelper(name: string, opts: { libbpf?: boolean } = {}): BuiltHelper {
  const known = builds.get(name);
  if (known) return known;
  const source = join(REPO_ROOT, 'test', 'helpers', `${name}.c`);
  const out = join(scratchDir(), basename(name));
  const cc = spawnSync('cc', ['-O2', '-Wall', '-o', out, source, ...(opts.libbpf ? ['-lbpf'] : [])], { encoding: 'utf8' });
  let built: BuiltHelper;
  if (cc.error) {
    built = { skipped: `no C compiler (cc) to build test/helpers/${name}.c: ${cc.error.message}` };
  } else if (cc.status !== 0) {
    if (opts.libbpf && /bpf\/btf\.h|cannot find -lbpf/.test(cc.stderr)) {
      built = { skipped: `libbpf-dev is not installed (apt-get install libbpf-dev): ${cc.stderr.trim().split('\n')[0]}` };
    } else {
      throw new Error(`building ${source} failed:\n${cc.stderr}`);
    }
  } else {
    built = { path: out };
  }
  builds.set(name, built);
  return built;
}
