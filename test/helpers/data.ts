import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DATA_DIR } from './paths.js';

/**
 * Kernel builds fetched by tools/fetch-debian-kernel.sh under DATA_DIR: directories holding the
 * `build` marker the script writes last (so a half-fetched build is not used) and vmlinux.btf.
 */
export function fetchedBuilds(): string[] {
  if (!existsSync(DATA_DIR)) return [];
  return readdirSync(DATA_DIR)
    .filter((d) => !d.startsWith('.'))
    .map((d) => join(DATA_DIR, d))
    .filter((d) => existsSync(join(d, 'build')) && existsSync(join(d, 'vmlinux.btf')))
    .sort();
}

/** Every `.ko` under `dir`, sorted; none when `dir` does not exist. */
export function findModules(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ko')) out.push(p);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out.sort();
}

/** Where builds fetched only for their vmlinux BTF live (CO-RE targets, rebase bases): .ci/run puts the rt build there. */
export const CORE_DATA_DIR = process.env.BTFKIT_CORE_DATA ?? join(DATA_DIR, 'core-targets');

/** Builds under {@link CORE_DATA_DIR} (a `build` marker and vmlinux.btf, no modules needed), sorted. */
export function coreTargetBuilds(): string[] {
  if (!existsSync(CORE_DATA_DIR)) return [];
  return readdirSync(CORE_DATA_DIR)
    .map((d) => join(CORE_DATA_DIR, d))
    .filter((d) => existsSync(join(d, 'build')) && existsSync(join(d, 'vmlinux.btf')))
    .sort();
}
