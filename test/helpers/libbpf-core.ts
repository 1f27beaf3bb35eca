import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCHelper, scratchDir } from './cc.js';

/** What libbpf logged about one CO-RE relocation (test/helpers/core_relo.c). */
export interface LibbpfRelocation {
  index: number;
  /** Local spec text, without the `<kind> ` prefix. */
  local: string;
  kind: string;
  /** Each candidate's spec text and whether it matched, in the order tried. */
  candidates: { spec: string; matched: boolean }[];
  /** `patched` with libbpf's printed values (imm64/imm/off: orig → new; mem_sz when resized), or `poisoned`. */
  patched?: { field: string; from: bigint; to: bigint }[];
  poisoned: boolean;
  /** libbpf failed the relocation (and stopped the object's CO-RE there). */
  failed: boolean;
}

let counter = 0;

/**
 * Runs libbpf 1.1 on `object` with `target` (BTF bytes) as its CO-RE target and returns what it
 * logged per relocation index, plus the candidate lines; `{skipped}` when the oracle cannot run.
 */
export function libbpfCoreRelocations(object: Uint8Array, target: Uint8Array): { relocations: Map<number, LibbpfRelocation>; candidates: string[] } | { skipped: string } {
  const tool = buildCHelper('core_relo', { libbpf: true });
  if ('skipped' in tool) return tool;
  const n = counter++;
  const objFile = join(scratchDir(), `core-${n}.o`);
  const btfFile = join(scratchDir(), `core-target-${n}.btf`);
  writeFileSync(objFile, object);
  writeFileSync(btfFile, target);
  try {
    const run = spawnSync(tool.path, [objFile, btfFile], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (run.error) throw run.error;
    if (run.stdout.includes('OPEN-FAILED')) throw new Error(`libbpf could not open the object: ${run.stderr}`);
    const relocations = new Map<number, LibbpfRelocation>();
    const candidates: string[] = [];
    const get = (index: number) => relocations.get(index)!;
    for (const line of run.stdout.split('\n')) {
      const cand = /CO-RE relocating \[\d+\] .*: found target candidate (.*)$/.exec(line);
      if (cand) candidates.push(cand[1]!);
      const m = /prog '[^']*': relo #(\d+): (.*)$/.exec(line);
      if (!m) continue;
      const index = Number(m[1]);
      const rest = m[2]!;
      let spec: RegExpExecArray | null;
      if ((spec = /^<([a-z_0-9]+)> (.*)$/.exec(rest))) {
        relocations.set(index, { index, kind: spec[1]!, local: spec[2]!, candidates: [], poisoned: false, failed: false });
      } else if ((spec = /^(matching|non-matching) candidate #\d+ <[a-z_0-9]+> (.*)$/.exec(rest))) {
        get(index).candidates.push({ spec: spec[2]!, matched: spec[1] === 'matching' });
      } else if ((spec = /^patched insn #\d+ \([A-Z0-9/]+\) (imm64|imm|off|mem_sz) (\d+) -> (\d+)$/.exec(rest))) {
        (get(index).patched ??= []).push({ field: spec[1]!, from: BigInt(spec[2]!), to: BigInt(spec[3]!) });
      } else if (/^substituting insn #\d+ w\/ invalid insn$/.test(rest)) {
        get(index).poisoned = true;
      } else if (/failed|ambiguity|error/.test(rest)) {
        const r = relocations.get(index) ?? { index, kind: '', local: '', candidates: [], poisoned: false, failed: true };
        r.failed = true;
        relocations.set(index, r);
      }
    }
    return { relocations, candidates };
  } finally {
    rmSync(objFile, { force: true });
    rmSync(btfFile, { force: true });
  }
}
