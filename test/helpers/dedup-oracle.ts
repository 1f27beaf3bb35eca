import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCHelper, scratchDir } from './cc.js';

/** What libbpf's btf__dedup made of a blob (test/helpers/btf_dedup.c), or why it refused. */
export type LibbpfDedup = { bytes: Uint8Array; types: number } | { failed: string } | { skipped: string };

let counter = 0;

function runOracle(args: (out: string) => string[], files: [string, Uint8Array][]): LibbpfDedup {
  const tool = buildCHelper('btf_dedup', { libbpf: true });
  if ('skipped' in tool) return tool;
  const n = counter++;
  const out = join(scratchDir(), `dedup-out-${process.pid}-${n}.btf`);
  for (const [path, bytes] of files) writeFileSync(path, bytes);
  try {
    const run = spawnSync(tool.path, args(out), { encoding: 'utf8', maxBuffer: 16 << 20 });
    if (run.error) throw run.error;
    if (run.status === 1) return { failed: run.stderr.trim() };
    if (run.status !== 0) throw new Error(`btf_dedup exited with ${run.status}: ${run.stderr}`);
    const types = /^types (\d+)$/m.exec(run.stdout);
    if (!types) throw new Error(`btf_dedup printed '${run.stdout}'`);
    const b = readFileSync(out);
    return { bytes: new Uint8Array(b.buffer, b.byteOffset, b.byteLength), types: Number(types[1]) };
  } finally {
    rmSync(out, { force: true });
    for (const [path] of files) rmSync(path, { force: true });
  }
}

/** libbpf 1.1's btf__dedup of `bytes` (raw BTF or ELF), split on `base` when given. */
export function libbpfDedup(bytes: Uint8Array, base?: Uint8Array): LibbpfDedup {
  const n = counter++;
  const input = join(scratchDir(), `dedup-in-${process.pid}-${n}.btf`);
  const baseFile = join(scratchDir(), `dedup-base-${process.pid}-${n}.btf`);
  const files: [string, Uint8Array][] = [[input, bytes]];
  if (base) files.push([baseFile, base]);
  return runOracle((out) => (base ? [input, out, baseFile] : [input, out]), files);
}

/** libbpf 1.1 merging module files (in the order given) onto `basePath` with btf__add_type, then btf__dedup. */
export function libbpfMergeDedup(basePath: string, modulePaths: readonly string[]): LibbpfDedup {
  return runOracle((out) => ['--merge', out, basePath, ...modulePaths], []);
}
