import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCHelper, scratchDir, type BuiltHelper } from './cc.js';

/** What the running kernel said about a blob, or why it could not be asked. */
export type KernelVerdict = { ok: boolean; log: string } | { skipped: string };

/** Builds test/helpers/btf_load.c once per process; the reason to skip if that cannot work. */
function buildLoader(): BuiltHelper {
  if (process.platform !== 'linux') return { skipped: `bpf() needs Linux; this is ${process.platform}` };
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return { skipped: 'not root: BPF_BTF_LOAD needs CAP_BPF/CAP_SYS_ADMIN' };
  }
  return buildCHelper('btf_load');
}

let counter = 0;

/**
 * Loads `bytes` into the running kernel with `bpf(BPF_BTF_LOAD)`: `{ok: true}` when the kernel
 * accepts it, `{ok: false, log}` with the verifier log when it rejects it. The kernel reads
 * only native-endian BTF and (up to 6.18 at least) only the 24-byte header, so callers load
 * converted equivalents of big-endian and layout blobs.
 */
export function kernelLoad(bytes: Uint8Array): KernelVerdict {
  const built = buildLoader();
  if ('skipped' in built) return built;
  const file = join(scratchDir(), `blob-${process.pid}-${counter++}.btf`);
  writeFileSync(file, bytes);
  try {
    const run = spawnSync(built.path, [file], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (run.error) throw run.error;
    if (run.status === 3) return { skipped: `bpf() is not available here: ${run.stdout.trim()}` };
    if (run.status === 0) return { ok: true, log: run.stdout };
    if (run.status === 1) return { ok: false, log: run.stdout };
    throw new Error(`btf_load exited with ${run.status}: ${run.stderr}${run.stdout}`);
  } finally {
    rmSync(file, { force: true });
  }
}

let bpftoolMissing: string | undefined;

/**
 * `bpftool btf dump file BLOB [--base-btf BASE] format raw`, the reference for raw dumps; a
 * `{skipped}` reason when bpftool is not installed. Throws when bpftool rejects the blob.
 */
export function bpftoolRaw(bytes: Uint8Array, base?: Uint8Array): { text: Uint8Array } | { skipped: string } {
  if (bpftoolMissing) return { skipped: bpftoolMissing };
  const dir = scratchDir();
  const file = join(dir, `dump-${process.pid}-${counter++}.btf`);
  const baseFile = base ? join(dir, `base-${process.pid}-${counter++}.btf`) : undefined;
  writeFileSync(file, bytes);
  if (baseFile && base) writeFileSync(baseFile, base);
  try {
    const args = ['btf', 'dump', 'file', file, ...(baseFile ? ['--base-btf', baseFile] : []), 'format', 'raw'];
    const run = spawnSync('bpftool', args, { maxBuffer: 1 << 30 });
    if (run.error) {
      bpftoolMissing = `bpftool is not installed (apt-get install bpftool): ${run.error.message}`;
      return { skipped: bpftoolMissing };
    }
    if (run.status !== 0) throw new Error(`bpftool ${args.join(' ')} failed (${run.status}): ${run.stderr.toString()}`);
    return { text: new Uint8Array(run.stdout.buffer, run.stdout.byteOffset, run.stdout.byteLength) };
  } finally {
    rmSync(file, { force: true });
    if (baseFile) rmSync(baseFile, { force: true });
  }
}
