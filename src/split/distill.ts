import { Btf } from '../btf/btf.js';
import { BtfBuilder } from '../build/builder.js';
import { copyRemapped, endianOf, nameBytes } from '../build/copy.js';
import { BtfError } from '../errors.js';
import { Kind, describeKind } from '../format/kinds.js';
import { visitRecord } from '../btf/slots.js';
import { describeType } from './refs.js';

/**
 * Distilling a module's base, as libbpf's `btf__distill_base` (libbpf 1.5, what pahole's
 * `--btf_features=distilled_base` runs for Linux 6.11+ modules): the module's split BTF is
 * rewritten onto a small base of its own (`.BTF.base`) that says only what must be found again
 * in whatever vmlinux the module meets, so the module can be relocated onto another build.
 *
 * Of the base types the module's own types reach (following references through base types
 * until a named struct or union, whose members do not matter):
 * - named INT, FLOAT and FWD go into the distilled base as they are;
 * - named STRUCT and UNION go there without members, keeping their size (relocation checks it
 *   when the module embeds one by value);
 * - named ENUM and ENUM64 go there as a memberless ENUM of the same size (relocation accepts
 *   an ENUM or ENUM64 of that name and size);
 * - everything else (pointers, arrays, typedefs, modifiers, function prototypes, type tags,
 *   and anonymous structs, unions and enums, in full) is copied into the split BTF, after the
 *   module's own types.
 * Both parts keep base id order; the module's own types keep their order and come first in the
 * split, so relocated onto the base it was built on, every type of the module has its old id.
 * A module that refers to a base FUNC, VAR, DATASEC or DECL_TAG cannot be distilled (libbpf
 * refuses it too).
 */

/** A distilled module: the two blobs of `.BTF.base` and `.BTF`. */
export interface DistilledModule {
  /** The distilled base: self-contained BTF of named types (`.BTF.base`). */
  base: Uint8Array;
  /** The module's BTF split on `base` (`.BTF`). */
  split: Uint8Array;
  /** Base ids (in the original base) that went into the distilled base, in its id order. */
  distilledIds: number[];
  /** Base ids copied into the split BTF, in the order they follow the module's own types. */
  movedIds: number[];
}

/** Base kinds a module's types may reach for distilling. */
const DISTILLABLE = new Set<number>([
  Kind.Int, Kind.Float, Kind.Fwd, Kind.Array, Kind.Struct, Kind.Union, Kind.Typedef, Kind.Enum, Kind.Enum64,
  Kind.Ptr, Kind.Const, Kind.Restrict, Kind.Volatile, Kind.FuncProto, Kind.TypeTag,
]);

/** True for base types that go into the distilled base rather than into the split BTF. */
function staysInBase(btf: Btf, id: number): boolean {
  switch (btf.kind(id)) {
    case Kind.Int: case Kind.Float: case Kind.Fwd:
      return true;
    case Kind.Struct: case Kind.Union: case Kind.Enum: case Kind.Enum64:
      return btf.nameOffset(id) !== 0;
    default:
      return false;
  }
}

/**
 * The base ids `mod`'s own types reach, with the walk stopping at named structs and unions.
 * Throws for a base kind a distilled module cannot refer to.
 * @internal
 */
export function reachedBaseTypes(mod: Btf): Uint8Array {
  const first = mod.firstId;
  const reached = new Uint8Array(first);
  const stack: number[] = [];
  let from = 0;
  const visitor = {
    type: (_slot: number, v: number) => {
      if (v === 0 || v >= first || reached[v]) return;
      const kind = mod.kind(v);
      if (!DISTILLABLE.has(kind)) {
        throw new BtfError('unsupported', `${describeType(mod, from)} refers to base type ${describeType(mod, v)}; a distilled base can only stand for types, not ${describeKind(kind)} records`, { typeId: from });
      }
      reached[v] = 1;
      const composite = kind === Kind.Struct || kind === Kind.Union;
      if (!(composite && mod.nameOffset(v) !== 0)) stack.push(v);
    },
    unknownPayload: (kind: number) => {
      throw new BtfError('bad-kind', `the type ids inside a record of ${describeKind(kind)} cannot be followed: btfkit does not know where they sit`, { typeId: from });
    },
  };
  for (let id = first; id < mod.endId; id++) {
    from = id;
    visitRecord(mod, id, visitor);
    while (stack.length) {
      from = stack.pop()!;
      visitRecord(mod, from, visitor);
    }
  }
  return reached;
}

/**
 * Splits `mod`'s base into a distilled base and the base types copied into the split BTF (see
 * the top of this module), with libbpf's ids and string tables: strings in the order the types
 * that name them are written, each once, and split BTF names that the distilled base holds
 * pointing into its strings.
 *
 * @param mod a module's BTF, split on the base it was built against
 */
export function distillBase(mod: Btf): DistilledModule {
  if (!mod.base) throw new BtfError('bad-argument', 'this BTF is not split: only split BTF has a base to distill');
  const first = mod.firstId;
  const reached = reachedBaseTypes(mod);
  const endian = endianOf(mod);

  const newId = new Uint32Array(first);
  const distilledIds: number[] = [];
  const movedIds: number[] = [];
  for (let id = 1; id < first; id++) {
    if (!reached[id]) continue;
    if (staysInBase(mod, id)) {
      newId[id] = distilledIds.length + 1;
      distilledIds.push(id);
    } else {
      movedIds.push(id);
    }
  }

  const baseBuilder = new BtfBuilder();
  const addName = (id: number): number => baseBuilder.strings.addBytes(nameBytes(mod, mod.nameOffset(id), id));
  for (const id of distilledIds) {
    const kind = mod.kind(id);
    switch (kind) {
      case Kind.Int: case Kind.Float: case Kind.Fwd:
        copyRemapped(baseBuilder, mod, id, (v) => v);
        break;
      case Kind.Struct: case Kind.Union:
        baseBuilder.addRecord(kind, addName(id), 0, false, mod.sizeOrType(id));
        break;
      default: // named ENUM or ENUM64
        baseBuilder.addRecord(Kind.Enum, addName(id), 0, false, mod.sizeOrType(id));
        break;
    }
  }
  const base = baseBuilder.encode({ endian });
  const distilled = Btf.parse(base);

  const ownCount = mod.ownTypeCount;
  movedIds.forEach((id, i) => { newId[id] = distilled.endId + ownCount + i; });
  const shift = first - distilled.endId;
  const mapId = (v: number): number => (v === 0 ? 0 : v >= first ? v - shift : newId[v]!);
  const splitBuilder = new BtfBuilder({ base: distilled });
  for (let id = first; id < mod.endId; id++) copyRemapped(splitBuilder, mod, id, mapId);
  for (const id of movedIds) copyRemapped(splitBuilder, mod, id, mapId);
  return { base, split: splitBuilder.encode({ endian }), distilledIds, movedIds };
}
