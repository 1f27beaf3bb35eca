import { Btf } from '../btf/btf.js';
import { TypeSet } from '../btf/typeset.js';
import { parseBpfObject } from '../bpf/object.js';
import { BtfBuilder } from '../build/builder.js';
import { copyRemapped, endianOf, nameBytes } from '../build/copy.js';
import { BtfError } from '../errors.js';
import { WireKind as Kind, describeKind } from '../format/kinds.js';
import { Rec } from '../format/records.js';
import { essentialName } from '../btf/query.js';
import { array, isComposite, kindOf, libbpfKindName, member, paramTypeOf, skipMods, vlenOf } from './btf-read.js';
import type { CoreDecision, CoreTargetSpec } from './decision.js';
import { CoreRelocator } from './engine.js';
import { CoreKind, coreKindFamily } from './kinds.js';

/*
 * Minimized BTF (bpftool's `gen min_core_btf`): relocate every object against the full target,
 * keep the target types each decision depended on, and write only those. What is kept per kind
 * follows bpftool's btfgen: field kinds keep the types along the target access and, of each
 * struct or union on the way, only the member taken (offsets unchanged, the record's size
 * kept); type kinds keep the type and what it refers to through pointers, arrays and
 * prototypes, structs and unions without members; enumerator kinds keep the whole enum;
 * type_matches keeps everything a match compares (members of structs not behind a pointer).
 * A reference to a type nothing kept becomes void, as in bpftool (a member pointing to a
 * struct nobody reads is a `void *`: CO-RE compares pointers without their targets).
 *
 * Where btfkit keeps more than bpftool, so that the results stay the same:
 * - every candidate that matched, not only the first: libbpf checks that all matches agree and
 *   narrows the next relocations of that local type to them, so dropping one can turn an
 *   ambiguity into a success (bpftool keeps the first, and fails on an ambiguity);
 * - the last member of a struct when a zero-length array that is not last is kept: a
 *   zero-length array that ends its struct is flexible, and indexes past 0 would match;
 * - types from modules (bpftool reads one BTF file).
 */

/** A BPF object to minimize for: its bytes, and a name for error messages. */
export type MinimizeInput = Uint8Array | { bytes: Uint8Array; file?: string };

/** Options of {@link minimizeBtf}. */
export interface MinimizeOptions {
  /**
   * `standalone` (default): one blob with every kept type, vmlinux's first, then each module's.
   * `split`: vmlinux's kept types as one blob and, for each module with kept types, a blob split
   * on it, laid out like /sys/kernel/btf (module types stay in their module, as the kernel
   * presents them, and are searched only when vmlinux has no candidate).
   */
  layout?: 'standalone' | 'split';
}

/** One module's minimized BTF, split on the minimized vmlinux. */
export interface MinimizedModule {
  name: string;
  bytes: Uint8Array;
}

/** What {@link minimizeBtf} wrote and kept. */
export interface MinimizedBtf {
  /** vmlinux's kept types (with `split`), or every kept type (standalone). */
  vmlinux: Uint8Array;
  /** With `split`: one blob per module that has kept types, split on {@link vmlinux}; else empty. */
  modules: MinimizedModule[];
  /**
   * Where each kept type went, per source blob (`vmlinux` or a module's name): old id → new id
   * (for modules split ids on either side).
   */
  ids: Map<string, Map<number, number>>;
  /** Types kept, and members kept over all kept structs and unions. */
  types: number;
  members: number;
  /**
   * Standalone output of several blobs only: kept types of one kind and essential name that
   * come from different blobs (`struct foo: vmlinux, xfs`). In one blob each is a CO-RE
   * candidate for the other's relocations, which the kernel's split layout keeps apart; the
   * split layout has none.
   */
  clashes: string[];
  /** CO-RE decisions the result was made from (every record of the objects, errors included). */
  relocations: number;
}

/** The kept types of one blob: per type id, the member indices kept (empty for non-composites). */
type BlobMarks = Map<number, Set<number>>;

/**
 * Which target types (and which of their members) a set of CO-RE decisions depends on, per
 * blob of the target. Feed it decisions with {@link add}; {@link minimizeBtf} does it for whole
 * objects.
 * @internal
 */
export class CoreTypeMarks {
  private readonly byBlob = new Map<Btf, BlobMarks>();
  private readonly names = new Map<Btf, string>();

  constructor(private readonly target: TypeSet) {}

  /** Marks what `decision`'s matches (every candidate that matched) need. */
  add(decision: CoreDecision): void {
    for (const match of decision.matches ?? []) this.addMatch(decision.kind, match);
  }

  /** The blobs with kept types, base first, then modules in the type set's order. */
  blobs(): { name: string; btf: Btf; marks: BlobMarks }[] {
    const order = [this.target.baseName, ...this.target.moduleNames()];
    return [...this.byBlob.entries()]
      .map(([btf, marks]) => ({ name: this.names.get(btf)!, btf, marks }))
      .sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
  }

  private addMatch(kind: number, match: CoreTargetSpec): void {
    const btf = this.target.module(match.btf);
    if (!btf) throw new BtfError('not-found', `a CO-RE match names BTF '${match.btf}', which the target does not have`);
    switch (coreKindFamily(kind)) {
      case 'field':
        this.markField(btf, match);
        break;
      case 'enumval':
        this.markType(btf, match.typeId, false);
        break;
      case 'type':
        if (kind === CoreKind.TypeIdLocal) break;
        if (kind === CoreKind.TypeMatches) this.markTypeMatch(btf, match.typeId);
        else this.markType(btf, match.typeId, true);
        break;
    }
  }

  /** The marks of the blob holding `id` (a base type when a module refers to one), made on first use. */
  private marksOf(btf: Btf, id: number): BlobMarks {
    const owner = btf.owner(id);
    if (!owner) throw new BtfError('bad-type-id', `type ${id} does not exist in the target`, { typeId: id });
    let marks = this.byBlob.get(owner);
    if (!marks) {
      const name = this.blobName(owner);
      marks = new Map();
      this.byBlob.set(owner, marks);
      this.names.set(owner, name);
    }
    return marks;
  }

  private blobName(owner: Btf): string {
    if (owner === this.target.base) return this.target.baseName;
    for (const name of this.target.moduleNames()) if (this.target.module(name) === owner) return name;
    throw new BtfError('bad-argument', 'a target module refers to types of a BTF that is neither vmlinux nor a module of the target');
  }

  /** Marks a type; true when it was not marked before. */
  private mark(btf: Btf, id: number): boolean {
    const marks = this.marksOf(btf, id);
    if (marks.has(id)) return false;
    marks.set(id, new Set());
    return true;
  }

  private markMember(btf: Btf, id: number, index: number): void {
    this.mark(btf, id);
    this.marksOf(btf, id).get(id)!.add(index);
  }

  /**
   * A type and what it refers to through qualifiers, typedefs, arrays and prototypes (and
   * pointers when `followPointers`); structs and unions are kept without members.
   */
  private markType(btf: Btf, root: number, followPointers: boolean): void {
    const stack = [root];
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (id === 0 || !this.mark(btf, id)) continue;
      const kind = kindOf(btf, id);
      switch (kind) {
        case Kind.Int: case Kind.Float: case Kind.Enum: case Kind.Enum64: case Kind.Struct: case Kind.Union: case Kind.Fwd:
          break;
        case Kind.Ptr:
          if (followPointers) stack.push(btf.sizeOrType(id));
          break;
        case Kind.Const: case Kind.Volatile: case Kind.Restrict: case Kind.Typedef: case Kind.TypeTag:
          stack.push(btf.sizeOrType(id));
          break;
        case Kind.Array: {
          const a = btf.owner(id)!;
          const rec = a.recordOffset(id);
          stack.push(array(btf, id).elemType, a.u32(rec + Rec.ARRAY_INDEX_TYPE_OFF));
          break;
        }
        case Kind.FuncProto:
          stack.push(btf.sizeOrType(id));
          for (let i = 0; i < vlenOf(btf, id); i++) stack.push(paramTypeOf(btf, id, i));
          break;
        default:
          throw new BtfError('unsupported', `a CO-RE relocation depends on type [${id}], a ${describeKind(kind)}, which minimized BTF cannot keep`, { typeId: id });
      }
    }
  }

  /**
   * Field kinds: the root and, along the access, each member taken and its type (bpftool's
   * `btfgen_record_field_relo`); array steps need nothing more than the array, kept whole.
   */
  private markField(btf: Btf, match: CoreTargetSpec): void {
    this.markType(btf, match.typeId, false);
    for (const step of match.steps.slice(1)) {
      if (!isComposite(kindOf(btf, step.typeId))) continue;
      this.keepMember(btf, step.typeId, step.index);
    }
  }

  private keepMember(btf: Btf, structId: number, index: number): void {
    this.markMember(btf, structId, index);
    const type = member(btf, structId, index).type;
    this.markType(btf, type, false);
    const last = vlenOf(btf, structId) - 1;
    if (index === last) return;
    const elem = skipMods(btf, type);
    if (kindOf(btf, elem) === Kind.Array && array(btf, elem).nelems === 0) {
      // Without a member after it, this zero-length array would end the struct and be flexible.
      this.markMember(btf, structId, last);
      this.markType(btf, member(btf, structId, last).type, false);
    }
  }

  /**
   * type_matches compares whole types: every member of a struct or union (recursively), but
   * behind a pointer only names and kinds, so there the struct is kept without members
   * (bpftool's `btfgen_mark_type_match`).
   */
  private markTypeMatch(btf: Btf, root: number): void {
    const seen = new Set<string>();
    const stack: [number, boolean][] = [[root, false]];
    while (stack.length > 0) {
      const [id, behindPointer] = stack.pop()!;
      const key = `${id}:${behindPointer}`;
      if (id === 0 || seen.has(key)) continue;
      seen.add(key);
      this.mark(btf, id);
      const kind = kindOf(btf, id);
      switch (kind) {
        case Kind.Int: case Kind.Float: case Kind.Enum: case Kind.Enum64: case Kind.Fwd:
          break;
        case Kind.Struct: case Kind.Union:
          if (behindPointer) break;
          for (let i = 0; i < vlenOf(btf, id); i++) {
            this.markMember(btf, id, i);
            stack.push([member(btf, id, i).type, false]);
          }
          break;
        case Kind.Const: case Kind.Volatile: case Kind.Restrict: case Kind.Typedef: case Kind.TypeTag:
          stack.push([btf.sizeOrType(id), behindPointer]);
          break;
        case Kind.Ptr:
          stack.push([btf.sizeOrType(id), true]);
          break;
        case Kind.Array: {
          const a = btf.owner(id)!;
          stack.push([array(btf, id).elemType, false], [a.u32(a.recordOffset(id) + Rec.ARRAY_INDEX_TYPE_OFF), false]);
          break;
        }
        case Kind.FuncProto:
          stack.push([btf.sizeOrType(id), false]);
          for (let i = 0; i < vlenOf(btf, id); i++) stack.push([paramTypeOf(btf, id, i), false]);
          break;
        default:
          throw new BtfError('unsupported', `a type_matches relocation depends on type [${id}], a ${describeKind(kind)}, which minimized BTF cannot keep`, { typeId: id });
      }
    }
  }
}

function inputBytes(input: MinimizeInput): { bytes: Uint8Array; file?: string } {
  return input instanceof Uint8Array ? { bytes: input } : input;
}

/**
 * The smallest BTF that gives `objects` the same CO-RE results as `target` (bpftool's
 * `gen min_core_btf`, extended to modules): every CO-RE record of every object is decided
 * against the target as libbpf would (one {@link CoreRelocator} per object), and only the
 * target types and members those decisions depended on are written, renumbered in their
 * original order. Relocating the objects against the result gives the same target specs
 * (names, member paths and offsets; ids and member indices change), values and poisonings.
 *
 * With a {@link TypeSet} that has modules, module types the objects need are kept too: in the
 * one standalone blob, or as split module blobs on the minimized vmlinux (`layout: 'split'`).
 * A standalone blob can hold a module's type next to a vmlinux type of the same name, which
 * CO-RE would then see as one more candidate; the split layout keeps them apart as the kernel does.
 *
 * @example
 * ```ts
 * const min = minimizeBtf([objectBytes], new TypeSet(vmlinux));
 * relocateObject(objectBytes, Btf.parse(min.vmlinux)); // same results as against vmlinux
 * ```
 */
export function minimizeBtf(objects: Iterable<MinimizeInput>, target: TypeSet | Btf, opts: MinimizeOptions = {}): MinimizedBtf {
  const set = target instanceof TypeSet ? target : new TypeSet(target);
  function* decisions(): Generator<CoreDecision> {
    for (const input of objects) {
      const { bytes, file } = inputBytes(input);
      const object = parseBpfObject(bytes, { file });
      if (!object.btf) throw new BtfError('not-found', 'the object has no .BTF section: CO-RE needs the types it was compiled against', { file });
      // One relocator per object, as libbpf narrows candidates within one bpf_object__load.
      const relocator = new CoreRelocator(object.btf, set);
      for (const block of object.ext?.coreRelo.blocks ?? []) {
        for (const record of block.records) yield relocator.resolve(record);
      }
    }
  }
  return minimizeBtfFor(decisions(), set, opts);
}

/**
 * {@link minimizeBtf} from decisions already made against `target` (by {@link CoreRelocator}s
 * over that same target, which every decision's matches must come from): the target types and
 * members those decisions depended on, written as minimizeBtf writes them.
 */
export function minimizeBtfFor(decisions: Iterable<CoreDecision>, target: TypeSet | Btf, opts: MinimizeOptions = {}): MinimizedBtf {
  const set = target instanceof TypeSet ? target : new TypeSet(target);
  const marks = new CoreTypeMarks(set);
  let relocations = 0;
  for (const decision of decisions) {
    marks.add(decision);
    relocations++;
  }
  return { ...writeMinimized(set, marks, opts.layout ?? 'standalone'), relocations };
}

function writeMinimized(set: TypeSet, marks: CoreTypeMarks, layout: 'standalone' | 'split'): Omit<MinimizedBtf, 'relocations'> {
  const blobs = marks.blobs();
  const ids = new Map<string, Map<number, number>>();
  const byOwner = new Map<Btf, Map<number, number>>();
  let nextId = 1;
  // New ids first, so that every reference (forward ones included) can be mapped while copying.
  for (const { name, btf, marks: kept } of blobs) {
    if (layout === 'split' && btf !== set.base) nextId = (ids.get(set.baseName)?.size ?? 0) + 1;
    const map = new Map<number, number>();
    for (const id of [...kept.keys()].sort((a, b) => a - b)) map.set(id, nextId++);
    ids.set(name, map);
    byOwner.set(btf, map);
  }
  const newIdOf = (btf: Btf, id: number): number => {
    if (id === 0) return 0;
    const owner = btf.owner(id);
    return (owner && byOwner.get(owner)?.get(id)) || 0;
  };

  const endian = endianOf(set.base);
  let types = 0;
  let members = 0;
  const write = (builder: BtfBuilder, btf: Btf, kept: BlobMarks): void => {
    for (const id of [...kept.keys()].sort((a, b) => a - b)) {
      types++;
      if (isComposite(kindOf(btf, id))) members += writeComposite(builder, btf, id, kept.get(id)!, newIdOf);
      else copyRemapped(builder, btf, id, (ref) => newIdOf(btf, ref));
    }
  };

  if (layout === 'standalone') {
    const builder = new BtfBuilder();
    for (const { btf, marks: kept } of blobs) write(builder, btf, kept);
    return { vmlinux: builder.encode({ endian }), modules: [], ids, types, members, clashes: clashesOf(blobs) };
  }
  const baseBuilder = new BtfBuilder();
  const baseBlob = blobs.find((b) => b.btf === set.base);
  if (baseBlob) write(baseBuilder, baseBlob.btf, baseBlob.marks);
  const vmlinux = baseBuilder.encode({ endian });
  const minimizedBase = Btf.parse(vmlinux);
  const modules: MinimizedModule[] = [];
  for (const { name, btf, marks: kept } of blobs) {
    if (btf === set.base) continue;
    const builder = new BtfBuilder({ base: minimizedBase });
    write(builder, btf, kept);
    modules.push({ name, bytes: builder.encode({ endian }) });
  }
  return { vmlinux, modules, ids, types, members, clashes: [] };
}

/** Kept named types that share a CO-RE kind and essential name across blobs. */
function clashesOf(blobs: { name: string; btf: Btf; marks: BlobMarks }[]): string[] {
  const where = new Map<string, string[]>();
  for (const { name, btf, marks } of blobs) {
    for (const id of marks.keys()) {
      const typeName = btf.name(id);
      if (typeName === '') continue;
      const kind = kindOf(btf, id);
      const group = kind === Kind.Enum64 ? Kind.Enum : kind;
      const key = `${libbpfKindName(group)} ${essentialName(typeName)}`;
      const blobNames = where.get(key) ?? [];
      if (!blobNames.includes(name)) blobNames.push(name);
      where.set(key, blobNames);
    }
  }
  return [...where].filter(([, names]) => names.length > 1).map(([key, names]) => `${key}: ${names.join(', ')}`);
}

/**
 * Writes a struct or union with only the kept members, each at its bit offset with its bitfield
 * size as it was; returns how many. Like bpftool (libbpf's `btf__add_field`), the record has
 * kind_flag set only when a kept member is a bitfield, so the output is bpftool's byte for byte.
 */
function writeComposite(builder: BtfBuilder, btf: Btf, id: number, keptMembers: Set<number>, newIdOf: (btf: Btf, id: number) => number): number {
  const owner = btf.owner(id)!;
  const rec = owner.recordOffset(id);
  const info = owner.u32(rec + Rec.INFO_OFF);
  const sourceKindFlag = info >>> Rec.INFO_KIND_FLAG_SHIFT === 1;
  // The record's name before its members', as bpftool adds them (the same string section).
  const nameOff = owner.u32(rec);
  const newNameOff = nameOff === 0 ? 0 : builder.strings.addBytes(nameBytes(btf, nameOff, id));
  const indices = [...keptMembers].sort((a, b) => a - b);
  const kept = indices.map((i) => {
    const at = rec + Rec.TYPE_HEADER_SIZE + i * Rec.MEMBER_SIZE;
    const memberNameOff = owner.u32(at + Rec.MEMBER_NAME_OFF);
    const offsetWord = owner.u32(at + Rec.MEMBER_OFFSET_OFF);
    return {
      name: memberNameOff === 0 ? 0 : builder.strings.addBytes(nameBytes(btf, memberNameOff, id)),
      type: newIdOf(btf, owner.u32(at + Rec.MEMBER_TYPE_OFF)),
      bitOffset: sourceKindFlag ? offsetWord & 0xffffff : offsetWord,
      bitfieldSize: sourceKindFlag ? offsetWord >>> 24 : 0,
    };
  });
  const kindFlag = kept.some((m) => m.bitfieldSize !== 0);
  const payload = kept.flatMap((m) => [m.name, m.type, kindFlag ? ((m.bitfieldSize << 24) | m.bitOffset) >>> 0 : m.bitOffset]);
  builder.addRecord(
    (info >>> Rec.INFO_KIND_SHIFT) & Rec.INFO_KIND_MASK,
    newNameOff,
    indices.length,
    kindFlag,
    owner.u32(rec + Rec.SIZE_OR_TYPE_OFF),
    payload,
  );
  return indices.length;
}
