/**
 * The seed corpus: real BTF only. Small blobs are cut out of the 6.18 vmlinux (so they carry
 * real kernel types of every kind), the Debian 6.1 module blobs are fuzzed split on their real
 * base, and the whole vmlinux appears now and then for truncation and splicing.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Btf } from '../../src/btf/btf.js';
import { fixture, FIXTURES } from '../helpers/paths.js';
import { closure, elfFieldsOf, encodeBtf, lift, SourceBlob, SPEC_LAYOUT, stringSection, wrapElf, type ElfFields, type LooseRecord } from './encode.js';
import { Rng } from './rng.js';

/** How a seed's base BTF is obtained. */
export type BaseSpec =
  | { kind: 'fixture'; path: string; btf: Btf }
  | { kind: 'bytes'; bytes: Uint8Array };

export interface Seed {
  name: string;
  bytes: Uint8Array;
  base?: BaseSpec;
  elf?: ElfFields;
  /** Relative selection weight. */
  weight: number;
  /** Large seeds get only cheap mutations (no whole-record shuffles). */
  large?: boolean;
}

export interface Corpus {
  seeds: Seed[];
  totalWeight: number;
}

export const DEBIAN_BASE = 'golden/debian-6.1.0-50-cloud/vmlinux.btf.gz';
export const VMLINUX = 'golden/running-6.18/vmlinux.btf.gz';
export const VMLINUX_LAYOUT = 'golden/running-6.18/vmlinux.layout.btf.gz';
const MODULES = ['af_key', '8021q', 'nf_tables', 'xfs'];

/** The layout section libbpf writes for the kinds it knows. */
const STANDARD_LAYOUT = SPEC_LAYOUT;

let cached: Corpus | undefined;
let debianBase: Btf | undefined;

/** The Debian base, parsed once per process (it is what every module seed is split on). */
export function debianBaseBtf(): Btf {
  return (debianBase ??= Btf.parse(fixture(DEBIAN_BASE), { file: DEBIAN_BASE }));
}

/** Builds the corpus deterministically (same seeds on every run and machine). */
export function buildCorpus(opts: { withVmlinux?: boolean } = {}): Corpus {
  if (cached) return cached;
  const rng = new Rng(0xb7f, 2026);
  const seeds: Seed[] = [];
  const vmlinux = fixture(VMLINUX);
  const src = new SourceBlob(vmlinux);

  // Small blobs cut out of the kernel's types: roots of every kind, closure kept small.
  const rootsByKind = new Map<number, number[]>();
  for (let id = 1; id <= src.typeCount; id++) {
    const k = src.kind(id);
    let list = rootsByKind.get(k);
    if (!list) rootsByKind.set(k, (list = []));
    list.push(id);
  }
  const smallSets: LooseRecord[][] = [];
  const smallNames: string[] = [];
  const kinds = [...rootsByKind.keys()].sort((a, b) => a - b);
  let attempts = 0;
  while (smallSets.length < 48 && attempts < 2000) {
    // Kinds in turn; a kind whose closures are always too big just yields its turn.
    const kind = kinds[attempts++ % kinds.length]!;
    const candidates = rootsByKind.get(kind)!;
    const roots = [rng.pick(candidates), rng.pick(candidates)];
    const c = closure(src, roots, rng.range(8, 120), 300);
    if (!c) continue;
    smallSets.push(lift(src, c.ids, 1, new Map(), c.cutPointers));
    smallNames.push(`cut${smallSets.length - 1}-k${kind}-${c.ids.length}t`);
  }

  smallSets.forEach((recs, i) => {
    const name = smallNames[i]!;
    const variant = i % 6;
    if (variant === 0 || variant === 3) seeds.push({ name, bytes: encodeBtf(recs), weight: 10 });
    if (variant === 1) seeds.push({ name: `${name}-be`, bytes: encodeBtf(recs, { littleEndian: false }), weight: 10 });
    if (variant === 2) seeds.push({ name: `${name}-layout`, bytes: encodeBtf(recs, { layout: STANDARD_LAYOUT }), weight: 10 });
    if (variant === 4) {
      const withUnknown = addUnknownKinds(recs, rng);
      seeds.push({ name: `${name}-unknown-kinds`, bytes: encodeBtf(withUnknown.records, { layout: withUnknown.layout, littleEndian: rng.chance(0.7) }), weight: 10 });
    }
    if (variant === 5) {
      const is64 = rng.chance(0.6);
      const le = rng.chance(0.7);
      const { bytes, fields } = wrapElf(encodeBtf(recs, { littleEndian: le }), is64, le);
      seeds.push({ name: `${name}-elf${is64 ? 64 : 32}${le ? 'le' : 'be'}`, bytes, elf: fields, weight: 10 });
    }
  });

  // Small split pairs: the base is a closed set of types, the split blob refers into it.
  for (let i = 0; i < 8; i++) {
    const kind = kinds[(i * 5 + 3) % kinds.length]!;
    const a = closure(src, [rng.pick(rootsByKind.get(kind)!)], rng.range(8, 60), 200);
    const b = closure(src, [rng.pick(rootsByKind.get(4) ?? rootsByKind.get(kind)!)], rng.range(8, 60), 200);
    if (!a || !b) continue;
    const known = new Map<number, number>();
    const baseRecs = lift(src, a.ids, 1, known, a.cutPointers);
    const inBase = new Set(a.ids);
    const splitIds = b.ids.filter((id) => !inBase.has(id));
    if (splitIds.length === 0) continue;
    const splitRecs = lift(src, splitIds, baseRecs.length + 1, known, b.cutPointers);
    const le = i % 4 !== 3;
    const layout = i % 3 === 2 ? STANDARD_LAYOUT : undefined;
    const base = encodeBtf(baseRecs, { littleEndian: le, layout });
    const split = encodeBtf(splitRecs, { littleEndian: le, layout, baseStrings: stringSection(base) });
    seeds.push({ name: `split${i}-${baseRecs.length}+${splitRecs.length}t`, bytes: split, base: { kind: 'bytes', bytes: base }, weight: 10 });
  }

  // Real module blobs split on the real Debian base: af_key and 8021q are small enough to be
  // fuzzed often; nf_tables and xfs are bigger.
  const debian = debianBaseBtf();
  const moduleWeights: Record<string, number> = { af_key: 25, '8021q': 25, nf_tables: 6, xfs: 1 };
  for (const m of MODULES) {
    const path = `golden/debian-6.1.0-50-cloud/modules/${m}.btf.gz`;
    seeds.push({ name: `module-${m}`, bytes: fixture(path), base: { kind: 'fixture', path: DEBIAN_BASE, btf: debian }, weight: moduleWeights[m]!, large: m === 'xfs' });
  }

  // Compiled BPF objects, when another part of the project has committed some.
  for (const bpfDir of [join(FIXTURES, 'bpf'), join(FIXTURES, 'bpf-insn')]) {
    if (!existsSync(bpfDir)) continue;
    for (const f of readdirSync(bpfDir).sort()) {
      if (!/\.o(\.gz)?$/.test(f)) continue;
      const raw = readFileSync(join(bpfDir, f));
      const b = f.endsWith('.gz') ? gunzipSync(raw) : raw;
      const bytes = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      seeds.push({ name: `bpf-${f.replace(/\.gz$/, '')}`, bytes, elf: elfFieldsOf(bytes), weight: 5 });
    }
  }

  // The whole kernel, rarely: each run of the target on it takes a good fraction of a second.
  if (opts.withVmlinux !== false) {
    seeds.push({ name: 'vmlinux-6.18', bytes: vmlinux, weight: 0.15, large: true });
    seeds.push({ name: 'vmlinux-6.18-layout', bytes: fixture(VMLINUX_LAYOUT), weight: 0.05, large: true });
  }

  let totalWeight = 0;
  for (const s of seeds) totalWeight += s.weight;
  cached = { seeds, totalWeight };
  return cached;
}

/** Picks a seed by weight. */
export function pickSeed(corpus: Corpus, rng: Rng): Seed {
  let r = (rng.u32() / 0x100000000) * corpus.totalWeight;
  for (const s of corpus.seeds) {
    if (r < s.weight) return s;
    r -= s.weight;
  }
  return corpus.seeds[corpus.seeds.length - 1]!;
}

/**
 * Adds records of kinds past ENUM64 (sized only by the layout section), as a future kernel
 * could emit them, and the layout section that describes them.
 */
function addUnknownKinds(recs: LooseRecord[], rng: Rng): { records: LooseRecord[]; layout: [number, number][] } {
  const extra = rng.range(1, 4);
  const layout: [number, number][] = STANDARD_LAYOUT.map(([a, b]) => [a, b]);
  for (let k = 0; k < extra; k++) layout.push([4 * rng.range(0, 3), 4 * rng.range(0, 3)]);
  const records = recs.slice();
  for (let n = rng.range(1, 4); n > 0; n--) {
    const kind = 20 + rng.below(extra);
    const [infoSz, elemSz] = layout[kind]!;
    const vlen = elemSz ? rng.range(0, 3) : 0;
    const words = [0, ((kind << 24) | vlen) >>> 0, rng.below(records.length + 1)];
    for (let i = 0; i < (infoSz + vlen * elemSz) / 4; i++) words.push(rng.u32());
    // Appended, so existing type ids keep their meaning.
    records.push({ words, names: new Map([[0, `future_kind_${kind}_${n}`]]), refWords: [] });
  }
  return { records, layout };
}
