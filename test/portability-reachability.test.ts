/**
 * Reachability of poisoned CO-RE instructions (src/load/reachability.ts, and checkPortability's
 * use of it) against the running kernel's verifier, which skips code it proves dead and rejects
 * a reachable poison call ("invalid func unknown#195896080"):
 * - hand-written instruction sequences, loaded raw: each guards a poison call with a branch
 *   whose outcome depends on one rule of constant evaluation (32-bit wrap-around, sign
 *   extension, signed compares, sign-extending moves, stack spills...);
 * - test/bpf/portability.bpf.c, relocated by libbpf 1.1 on the running kernel and loaded one
 *   program at a time (test/helpers/prog_load.c): guarded and unguarded accesses to a field, a
 *   type and an enumerator no kernel has, in programs and in a subprogram.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { encodeInsns, type BpfInsn } from '../src/bpf/insn.js';
import { CORE_POISON_HELPER } from '../src/core/patch.js';
import { checkPortability } from '../src/load/portability.js';
import { reachableInstructions } from '../src/load/reachability.js';
import { KernelBtf } from '../src/node/sysfs.js';
import { fixture } from './helpers/paths.js';
import { loadEachProgram, loadRaw, POISON_REJECTION } from './helpers/prog-load.js';
import { loudSkip } from './helpers/skip.js';

const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

type Insn = BpfInsn & { next?: BpfInsn };
const i = (code: number, dst: number, src: number, off: number, imm: number): Insn => ({ code, dst, src, off, imm });
// Opcodes: class | op | source.
const ALU64 = 0x07, ALU = 0x04, JMP = 0x05, JMP32 = 0x06, X = 0x08;
const MOV = 0xb0, ADD = 0x00, RSH = 0x70, ARSH = 0xc0, DIV = 0x30;
const JEQ = 0x10, JNE = 0x50, JSET = 0x40, JSLT = 0xc0, JLT = 0xa0;
const movImm64 = (dst: number, imm: number) => i(ALU64 | MOV, dst, 0, 0, imm);
const movImm32 = (dst: number, imm: number) => i(ALU | MOV, dst, 0, 0, imm);
const call = (imm: number) => i(JMP | 0x80, 0, 0, 0, imm);
const exit = i(JMP | 0x90, 0, 0, 0, 0);
const ldImm64 = (dst: number, value: bigint): Insn => ({
  ...i(0x18, dst, 0, 0, Number(BigInt.asIntN(32, value))), next: i(0, 0, 0, 0, Number(BigInt.asIntN(32, value >> 32n))),
});
/** The poison call, skipped when the jump before it is taken; r0 = 0 and exit either way. */
const guarded = (jump: Insn): Insn[] => [jump, call(CORE_POISON_HELPER), movImm64(0, 0), exit];
const ktime = call(5); // bpf_ktime_get_ns: r0 unknown to both

/**
 * Cases the analysis must decide as the verifier does (`exact`), or where it may only err
 * towards "reachable" (`sound`: the verifier tracks more than constants in registers).
 */
const CASES: { name: string; insns: Insn[]; agreement: 'exact' | 'sound' }[] = [
  { name: 'constant guard taken', agreement: 'exact', insns: [movImm64(1, 0), ...guarded(i(JMP | JEQ, 1, 0, 1, 0))] },
  { name: 'constant guard not taken', agreement: 'exact', insns: [movImm64(1, 0), ...guarded(i(JMP | JNE, 1, 0, 1, 0))] },
  { name: 'unknown helper result', agreement: 'exact', insns: [ktime, ...guarded(i(JMP | JEQ, 0, 0, 1, 0))] },
  { name: 'constant in a callee-saved register across a call', agreement: 'exact', insns: [movImm64(6, 7), ktime, ...guarded(i(JMP | JEQ, 6, 0, 1, 7))] },
  { name: 'r1-r5 are clobbered by a call', agreement: 'exact', insns: [movImm64(6, 0), movImm64(1, 7), ktime, movImm64(1, 0), ...guarded(i(JMP | JEQ, 6, 0, 1, 0))] },
  { name: '32-bit add wraps', agreement: 'exact', insns: [movImm32(1, -1), i(ALU | ADD, 1, 0, 0, 1), ...guarded(i(JMP | JEQ, 1, 0, 1, 0))] },
  { name: '32-bit mov zero-extends, a 64-bit compare sign-extends its immediate', agreement: 'exact', insns: [movImm32(1, -1), ...guarded(i(JMP | JEQ, 1, 0, 1, -1))] },
  { name: '64-bit mov sign-extends its immediate', agreement: 'exact', insns: [movImm64(1, -1), ...guarded(i(JMP | JEQ, 1, 0, 1, -1))] },
  { name: 'signed 32-bit compare', agreement: 'exact', insns: [movImm32(1, -1), ...guarded(i(JMP32 | JSLT, 1, 0, 1, 0))] },
  { name: 'unsigned 64-bit compare of a zero-extended -1', agreement: 'exact', insns: [movImm32(1, -1), ...guarded(i(JMP | JSLT, 1, 0, 1, 0))] },
  { name: '32-bit arithmetic shift', agreement: 'exact', insns: [movImm32(1, -0x80000000), i(ALU | ARSH, 1, 0, 0, 31), ...guarded(i(JMP32 | JEQ, 1, 0, 1, -1))] },
  { name: 'jset on a clear bit', agreement: 'exact', insns: [movImm64(1, 6), ...guarded(i(JMP | JSET, 1, 0, 1, 1))] },
  { name: 'jset on a set bit', agreement: 'exact', insns: [movImm64(1, 6), ...guarded(i(JMP | JSET, 1, 0, 1, 2))] },
  { name: 'register against register', agreement: 'exact', insns: [movImm64(1, 3), movImm64(2, 3), ...guarded(i(JMP | JEQ | X, 1, 2, 1, 0))] },
  { name: 'ld_imm64 constant shifted', agreement: 'exact', insns: [ldImm64(1, 0x1_0000_0000n), i(ALU64 | RSH, 1, 0, 0, 32), ...guarded(i(JMP | JEQ, 1, 0, 1, 1))] },
  { name: 'sign-extending 64-bit move (movsx8)', agreement: 'exact', insns: [movImm64(1, 0xff), i(ALU64 | MOV | X, 2, 1, 8, 0), ...guarded(i(JMP | JEQ, 2, 0, 1, -1))] },
  { name: 'sign-extending 32-bit move (movsx16)', agreement: 'exact', insns: [movImm64(1, 0x8000), i(ALU | MOV | X, 2, 1, 16, 0), ...guarded(i(JMP | JEQ, 2, 0, 1, 0xffff8000 | 0))] },
  { name: 'sign-extending move of a positive value (movsx32)', agreement: 'exact', insns: [movImm64(1, 5), i(ALU64 | MOV | X, 2, 1, 32, 0), ...guarded(i(JMP | JEQ, 2, 0, 1, 5))] },
  { name: 'constant spilled to the stack and filled', agreement: 'exact', insns: [movImm64(1, 0), i(0x7b, 10, 1, -8, 0), i(0x79, 2, 10, -8, 0), ...guarded(i(JMP | JEQ, 2, 0, 1, 0))] },
  { name: 'immediate stored to the stack and filled', agreement: 'exact', insns: [i(0x7a, 10, 0, -16, 1), i(0x79, 3, 10, -16, 0), ...guarded(i(JMP | JEQ, 3, 0, 1, 1))] },
  { name: 'unsigned division', agreement: 'sound', insns: [movImm64(1, 12), i(ALU64 | DIV, 1, 0, 0, 4), ...guarded(i(JMP | JEQ, 1, 0, 1, 3))] },
  {
    name: 'two constants joined at a merge point', agreement: 'sound',
    // r1 is 0 or 1 depending on the clock; both are < 2, the verifier follows each path.
    insns: [ktime, movImm64(1, 0), i(JMP | JEQ, 0, 0, 1, 0), movImm64(1, 1), ...guarded(i(JMP | JLT, 1, 0, 1, 2))],
  },
  {
    name: 'a helper overwrites a stack slot through a pointer to it', agreement: 'exact',
    // bpf_probe_read_kernel(r10 - 8, 8, NULL) after the slot held 0.
    insns: [i(0x7a, 10, 0, -8, 0), i(ALU64 | MOV | X, 1, 10, 0, 0), i(ALU64 | ADD, 1, 0, 0, -8), movImm64(2, 8), movImm64(3, 0), call(113),
      i(0x79, 2, 10, -8, 0), ...guarded(i(JMP | JEQ, 2, 0, 1, 0))],
  },
  {
    name: 'a narrower store into a spilled slot', agreement: 'exact',
    insns: [i(0x7a, 10, 0, -8, 0), i(0x62, 10, 0, -4, 1), i(0x79, 2, 10, -8, 0), ...guarded(i(JMP | JEQ, 2, 0, 1, 0))],
  },
];

test('reachable poison calls in hand-written programs, as the running kernel\'s verifier decides', (t) => {
  let compared = 0;
  const verdicts = new Set<boolean>();
  for (const c of CASES) {
    const code = encodeInsns(c.insns, HOST_LE);
    const kernel = loadRaw('kprobe', code);
    if ('skipped' in kernel) return loudSkip(t, kernel.skipped);
    const rejected = POISON_REJECTION.test(kernel.verifier);
    // Anything else the verifier objects to would make the case meaningless.
    assert.ok(kernel.loaded || rejected, `${c.name}: the verifier refused it for another reason:\n${kernel.verifier}`);
    const ours = reachableInstructions(code, HOST_LE).reachablePoison.length > 0;
    if (c.agreement === 'exact') assert.equal(ours, rejected, `${c.name}: btfkit says the poison is ${ours ? '' : 'un'}reachable; the verifier ${rejected ? 'rejects' : 'accepts'} it`);
    else if (rejected) assert.ok(ours, `${c.name}: the verifier reaches the poison, btfkit calls it dead`);
    verdicts.add(rejected);
    compared++;
  }
  assert.equal(compared, CASES.length);
  assert.deepEqual([...verdicts].sort(), [false, true], 'the cases include accepted and rejected programs');
});

test('guarded and unguarded CO-RE accesses: checkPortability\'s reachable poisons are the programs the verifier rejects', (t) => {
  let kernel: KernelBtf;
  try {
    kernel = new KernelBtf();
    kernel.vmlinux;
  } catch (e) {
    return loudSkip(t, `the running kernel has no readable BTF: ${(e as Error).message}`);
  }
  for (const cc of ['clang14', 'clang19']) {
    const name = `portability.${cc}.bpfel.o`;
    const bytes = fixture(`bpf/${name}.gz`);
    const verdicts = loadEachProgram(bytes);
    if ('skipped' in verdicts) return loudSkip(t, verdicts.skipped);
    const result = checkPortability(bytes, kernel.typeSet(), { file: name });
    assert.deepEqual(result.programs.map((p) => p.name).sort(), verdicts.map((v) => v.program).sort(), `${name}: programs`);
    const rejectedByVerifier = verdicts.filter((v) => !v.loaded).map((v) => v.program).sort();
    for (const v of verdicts) {
      // Every failure here must be the poison: the objects are written to pass otherwise.
      if (!v.loaded) assert.match(v.verifier, POISON_REJECTION, `${name} ${v.program}: ${v.libbpf}\n${v.verifier}`);
    }
    const reachable = [...new Set(result.findings.filter((f) => f.kind === 'core' && f.reachable).flatMap((f) => f.reachableFrom!))].sort();
    assert.deepEqual(reachable, rejectedByVerifier, `${name}: programs with a reachable poison`);
    // Not vacuous: some poisons are dead, some programs fail.
    assert.ok(rejectedByVerifier.length > 0 && result.findings.some((f) => f.kind === 'core' && f.reachable === false), name);
    assert.equal(result.ok, rejectedByVerifier.length === 0);

    // The big-endian twin decides alike (the verifier cannot load it on this host).
    const twin = checkPortability(fixture(`bpf/portability.${cc}.bpfeb.o.gz`), kernel.typeSet());
    const strip = (r: typeof result) => r.findings.map((f) => ({ ...f, reason: f.reason }));
    assert.deepEqual(strip(twin), strip(result), `${name}: big-endian twin`);
  }
});
