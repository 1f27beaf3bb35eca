import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCHelper, scratchDir } from './cc.js';

/**
 * libbpf 1.1 and the running kernel's verifier as the "will it load" oracle, through
 * test/helpers/prog_load.c: each program of an object loaded on its own, or raw instructions.
 */

/** What happened to one program. */
export interface ProgramVerdict {
  program: string;
  section: string;
  loaded: boolean;
  /** -errno, 0 when loaded. */
  error: number;
  /** The attach target libbpf passed to BPF_PROG_LOAD (its BTF object's name and the type id). */
  attach: { btf: string; id: number } | null;
  /** What the kernel recorded, for a program it accepted. */
  kernel: { btf: string; id: number } | null;
  /** libbpf's warnings. */
  libbpf: string;
  /** The verifier's log, for a program that failed. */
  verifier: string;
}

/**
 * A verifier log that rejects a poisoned CO-RE instruction: the kernel's "invalid func
 * unknown#195896080" (0xbad2310), or libbpf 1.1's rewrite of it.
 */
export const POISON_REJECTION = /unknown#195896080|<invalid CO-RE relocation>|failed to resolve CO-RE relocation/;

function tool(): { path: string } | { skipped: string } {
  if (process.platform !== 'linux') return { skipped: `loading BPF programs needs Linux; this is ${process.platform}` };
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return { skipped: 'not root: loading BPF programs needs CAP_BPF/CAP_SYS_ADMIN' };
  return buildCHelper('prog_load', { libbpf: true });
}

let counter = 0;

/** Loads each program of `object` alone on the running kernel. */
export function loadEachProgram(object: Uint8Array): ProgramVerdict[] | { skipped: string } {
  const t = tool();
  if ('skipped' in t) return t;
  const file = join(scratchDir(), `prog-${process.pid}-${counter++}.o`);
  writeFileSync(file, object);
  try {
    const run = spawnSync(t.path, [file], { encoding: 'utf8', maxBuffer: 1 << 30 });
    if (run.error) throw run.error;
    if (run.status !== 0) throw new Error(`prog_load exited with ${run.status}: ${run.stderr}`);
    const verdicts = run.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as ProgramVerdict);
    if (verdicts.length > 0 && verdicts.every((v) => v.error === -1 && !v.attach)) {
      return { skipped: `the kernel refuses every program (EPERM): ${verdicts[0]!.libbpf.trim().split('\n')[0]}` };
    }
    return verdicts;
  } finally {
    rmSync(file, { force: true });
  }
}

/** Loads raw instructions (host byte order) as one program of `type` with the verifier's log. */
export function loadRaw(type: 'kprobe' | 'socket', insns: Uint8Array): { loaded: boolean; error: number; verifier: string } | { skipped: string } {
  const t = tool();
  if ('skipped' in t) return t;
  const hex = Buffer.from(insns).toString('hex');
  const run = spawnSync(t.path, ['--raw', type, hex], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`prog_load --raw exited with ${run.status}: ${run.stderr}`);
  return JSON.parse(run.stdout);
}
