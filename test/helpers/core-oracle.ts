import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCHelper, scratchDir, type BuiltHelper } from './cc.js';
import { CORE_DATA_DIR, coreTargetBuilds, fetchedBuilds } from './data.js';

/**
 * libbpf (Debian's libbpf-dev 1.1) as the CO-RE oracle, through test/helpers/core_oracle.c:
 * what libbpf decided for each CO-RE relocation of an object against a target, read back from
 * its debug log, and the instructions it left in each program. See docs/CORE.md.
 */

/** Where libbpf looks for candidates. */
export type OracleTarget =
  /** The running kernel: /sys/kernel/btf/vmlinux, and module BTF through bpf(). */
  | { label: string; running: true }
  /** A vmlinux BTF file (raw or ELF), given to libbpf as btf_custom_path. */
  | { label: string; vmlinux: string; module?: undefined }
  /**
   * vmlinux and one module (.ko), flattened into one standalone BTF for btf_custom_path (libbpf
   * 1.1 reads module BTF only from the running kernel). The module's ids stay as they are in
   * its split BTF, and candidates there are reported with the module's name as `btf`. Unlike
   * libbpf on a real kernel, vmlinux and the module are searched together: only relocations
   * whose type has no candidate in vmlinux mean the same thing.
   */
  | { label: string; vmlinux: string; module: string };

/** One instruction field libbpf changed, as its debug log reports it. */
export interface OraclePatch {
  /** imm: ALU/ALU64 immediate; off: LDX/ST/STX offset; size: LDX/ST/STX access size (bytes); imm64: ld_imm64. */
  field: 'imm' | 'off' | 'size' | 'imm64';
  from: bigint;
  to: bigint;
}

/** A candidate libbpf examined for a relocation. */
export interface OracleCandidate {
  /** `vmlinux` or the module's name. */
  btf: string;
  id: number;
  matched: boolean;
  /** libbpf's spec of the candidate, e.g. `<byte_off> [192] struct task_struct.pid (0:83 @ offset 2416)`. */
  spec: string;
}

/** libbpf's decision for one CO-RE relocation. */
export interface OracleRelocation {
  /** ELF section of the program (the .BTF.ext section name). */
  section: string;
  /** The program (function symbol) libbpf attributes the instruction to. */
  program: string;
  /** Index of the record within its .BTF.ext section (libbpf's `relo #N`). */
  index: number;
  /** Instruction index within the program; -1 when libbpf failed before naming it. */
  insn: number;
  /** Byte offset of the instruction within its section (as .BTF.ext stores it), when known. */
  insnOffset?: number;
  /** libbpf's kind name: byte_off, byte_sz, field_exists, ... type_matches. */
  kind: string;
  /** Local type id and libbpf's spec text of the local access. */
  local: { id: number; spec: string };
  /** Candidates examined, in libbpf's order (pruned to the earlier matches, as libbpf does). */
  candidates: OracleCandidate[];
  /** The first matching candidate, whose value was used; null when none matched or on error. */
  target: { btf: string; id: number; spec: string } | null;
  result: 'patched' | 'poisoned' | 'error';
  /** Empty when poisoned or on error. */
  patches: OraclePatch[];
  /** libbpf's warnings for this relocation (why it poisoned or failed). */
  warnings: string[];
  /** Every log line libbpf wrote for this relocation, verbatim ("libbpf: " removed). */
  log: string[];
}

/** A program's instructions after libbpf's relocation. */
export interface OracleProgram {
  name: string;
  section: string;
  /** Where the program starts in its section, in instructions; -1 when the symbol was not found. */
  sectionInsn: number;
  /** Raw instructions, 8 bytes each, with the subprograms libbpf appended. */
  insns: Uint8Array;
}

/** One run of libbpf over an object and a target. */
export interface OracleRun {
  relocations: OracleRelocation[];
  programs: OracleProgram[];
  /** Sections with CO-RE records, and how many each holds, as libbpf announced them. */
  sections: { name: string; count: number }[];
  /** ok: every relocation was processed; failed: libbpf stopped at an error (the rest were not reached). */
  core: 'ok' | 'failed' | 'not-run';
  /** Whether bpf_object__load succeeded as a whole (the verifier included); CO-RE ran either way. */
  load: 'ok' | 'failed';
  /** libbpf's whole log (stderr of the harness). */
  log: string;
}

function buildOracle(): BuiltHelper {
  if (process.platform !== 'linux') return { skipped: `libbpf's CO-RE needs Linux (bpf()); this is ${process.platform}` };
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return { skipped: 'not root: libbpf relocates inside bpf_object__load, which needs bpf() (CAP_BPF/CAP_SYS_ADMIN)' };
  }
  return buildCHelper('core_oracle', { libbpf: true });
}

/** True for an ELF file whose EI_DATA says big-endian. */
function isBigEndianElf(bytes: Uint8Array): boolean {
  return bytes.length > 5 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[5] === 2;
}

let counter = 0;

/**
 * Runs libbpf's CO-RE over `object` (the bytes of a BPF .o) against `target`. `{skipped}` when
 * the oracle cannot run here (not Linux, not root, no libbpf-dev, bpf() unusable). A
 * big-endian object is an error: libbpf on a little-endian host refuses it at open ("elf:
 * endianness mismatch"); compare its little-endian twin instead.
 */
export function libbpfCore(object: Uint8Array, target: OracleTarget): OracleRun | { skipped: string } {
  if (isBigEndianElf(object)) {
    throw new Error('libbpf cannot open a big-endian BPF object on a little-endian host: run the oracle on its bpfel twin');
  }
  const tool = buildOracle();
  if ('skipped' in tool) return tool;
  const file = join(scratchDir(), `core-${process.pid}-${counter++}.o`);
  writeFileSync(file, object);
  try {
    const args = [file];
    if (!('running' in target)) {
      args.push(target.vmlinux);
      if (target.module) args.push(target.module);
    }
    const run = spawnSync(tool.path, args, { encoding: 'utf8', maxBuffer: 256 << 20 });
    if (run.error) throw run.error;
    if (run.status === 3) return { skipped: `bpf() is not usable here, libbpf cannot load: ${lastLines(run.stderr)}` };
    if (run.status !== 0 && run.status !== 4) {
      throw new Error(`core_oracle exited with ${run.status} on ${target.label}: ${lastLines(run.stderr)}`);
    }
    return parseRun(run.stdout, run.stderr);
  } finally {
    rmSync(file, { force: true });
  }
}

function lastLines(text: string): string {
  return text.trimEnd().split('\n').slice(-3).join(' | ');
}

function parseRun(stdout: string, log: string): OracleRun {
  const run: OracleRun = { relocations: [], programs: [], sections: [], core: 'not-run', load: 'failed', log };
  for (const line of stdout.split('\n')) {
    if (!line) continue;
    const event = JSON.parse(line) as { event: string } & Record<string, unknown>;
    if (event.event === 'relo') {
      const raw = event as unknown as Omit<OracleRelocation, 'patches'> & { patches: { field: OraclePatch['field']; from: string; to: string }[] };
      run.relocations.push({ ...raw, patches: raw.patches.map((p) => ({ field: p.field, from: BigInt(p.from), to: BigInt(p.to) })) });
    } else if (event.event === 'program') {
      const hex = event.insns as string;
      run.programs.push({
        name: event.name as string,
        section: event.section as string,
        sectionInsn: event.sectionInsn as number,
        insns: Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16)),
      });
    } else if (event.event === 'summary') {
      run.sections = event.sections as OracleRun['sections'];
      run.core = event.core as OracleRun['core'];
      run.load = event.load as OracleRun['load'];
    }
  }
  return run;
}

export { CORE_DATA_DIR };

/**
 * The targets the CO-RE comparisons run against: the running kernel (when it has BTF), every
 * Debian build under data/ (tools/fetch-debian-kernel.sh) and under the CO-RE data directory
 * (BTFKIT_CORE_DATA, default data/core-targets: builds fetched for their types only, such as
 * the PREEMPT_RT flavour, whose lock sizes move fields of task_struct and friends).
 */
export function coreTargets(): OracleTarget[] {
  const targets: OracleTarget[] = [];
  if (existsSync('/sys/kernel/btf/vmlinux')) targets.push({ label: 'running kernel', running: true });
  const extra = coreTargetBuilds();
  for (const dir of [...fetchedBuilds(), ...extra]) {
    targets.push({ label: dir.slice(dir.lastIndexOf('/') + 1), vmlinux: join(dir, 'vmlinux.btf') });
  }
  return targets;
}

/**
 * A module target: the first fetched build whose modules include `moduleFile` (a path relative
 * to the build's modules/, e.g. `fs/xfs/xfs.ko`); undefined when none has it.
 */
export function moduleTarget(moduleFile: string): (OracleTarget & { vmlinux: string; module: string }) | undefined {
  for (const dir of fetchedBuilds()) {
    const path = join(dir, 'modules', moduleFile);
    if (existsSync(path)) {
      const build = dir.slice(dir.lastIndexOf('/') + 1);
      return { label: `${build} + ${moduleFile}`, vmlinux: join(dir, 'vmlinux.btf'), module: path };
    }
  }
  return undefined;
}
