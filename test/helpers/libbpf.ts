import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCHelper, scratchDir } from './cc.js';

/** What libbpf answers about a BTF file (test/helpers/btf_query.c). */
export interface LibbpfAnswers {
  /** btf__pointer_size: 0 when the BTF does not tell. */
  pointerSize: number;
  /** btf__resolve_size of each id (index = id; a negative errno when there is none). */
  sizes: number[];
  /** btf__align_of of each id (index = id; 0 when there is none). */
  aligns: number[];
}

let counter = 0;

/**
 * libbpf's btf__pointer_size, btf__resolve_size and btf__align_of for `bytes` (raw BTF, or an
 * ELF file), read as split BTF on `base` when given; `{skipped}` when the oracle cannot be
 * built here.
 */
export function libbpfAnswers(bytes: Uint8Array, base?: Uint8Array): LibbpfAnswers | { skipped: string } {
  const tool = buildCHelper('btf_query', { libbpf: true });
  if ('skipped' in tool) return tool;
  const n = counter++;
  const file = join(scratchDir(), `blob-${n}.btf`);
  const baseFile = join(scratchDir(), `base-${n}.btf`);
  writeFileSync(file, bytes);
  if (base) writeFileSync(baseFile, base);
  try {
    const run = spawnSync(tool.path, base ? [file, baseFile] : [file], { encoding: 'utf8', maxBuffer: 256 << 20 });
    if (run.error) throw run.error;
    if (run.status !== 0) throw new Error(`btf_query exited with ${run.status}: ${run.stderr}`);
    const lines = run.stdout.trimEnd().split('\n');
    const head = /^pointer_size (\d+)$/.exec(lines[0]!);
    if (!head) throw new Error(`btf_query printed '${lines[0]}' first`);
    const sizes: number[] = [];
    const aligns: number[] = [];
    for (const line of lines.slice(1)) {
      const [id, size, align] = line.split(' ').map(Number) as [number, number, number];
      sizes[id] = size;
      aligns[id] = align;
    }
    return { pointerSize: Number(head[1]), sizes, aligns };
  } finally {
    rmSync(file, { force: true });
    rmSync(baseFile, { force: true });
  }
}
