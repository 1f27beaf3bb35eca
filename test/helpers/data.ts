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
