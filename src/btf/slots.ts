import { BtfError } from '../errors.js';
import {
  Rec, RECORD_SHAPES, infoKind, infoVlen, recordShape, type FieldSlot, type NameUse, type TypeUse,
} from '../format/records.js';
import type { Btf } from './btf.js';

export type { NameUse, TypeUse } from '../format/records.js';

/**
 * Field iteration: every type id and name offset a record holds, where it sits and what it is
 * for, derived from the per-kind descriptor table (`RECORD_SHAPES` in src/format/records.ts).
 * Everything that renumbers ids or strings, or checks what references point at, goes
 * through here, so no caller has its own idea of where ids lie.
 */

/**
 * Receives the slots of a record: each type id slot (its absolute byte offset in the owner's
 * bytes, value and role) and each name offset slot (`index` -1 for the type's own name).
 * Kinds btfkit does not know have payloads it cannot interpret; for them only the name is
 * visited and `unknownPayload` is called, so a caller that rewrites ids can refuse them rather
 * than miss a reference.
 */
export interface RecordVisitor {
  type?(slot: number, value: number, use: TypeUse, index: number): void;
  name?(slot: number, value: number, use: NameUse, index: number): void;
  unknownPayload?(kind: number): void;
}

/**
 * Visits every type id and name offset stored in the record of type `id` (which `btf` or one
 * of its bases holds), in the order they lie: the record's own fields first, then each element's.
 */
export function visitRecord(btf: Btf, id: number, v: RecordVisitor): void {
  const o = btf.owner(id);
  if (!o) throw new BtfError('bad-type-id', `type id ${id} does not exist`);
  const rec = o.recordOffset(id);
  const info = o.u32(rec + Rec.INFO_OFF);
  const kind = infoKind(info);
  const shape = recordShape(kind);
  if (!shape) {
    v.name?.(rec + Rec.NAME_OFF, o.u32(rec + Rec.NAME_OFF), 'type', -1);
    v.unknownPayload?.(kind);
    return;
  }
  visitSlots(o, rec, shape.fixed, -1, v);
  if (shape.elemSize === 0) return;
  const vlen = infoVlen(info);
  for (let i = 0, e = rec + Rec.TYPE_HEADER_SIZE + shape.infoSize; i < vlen; i++, e += shape.elemSize) visitSlots(o, e, shape.element, i, v);
}

function visitSlots(o: Btf, base: number, slots: readonly FieldSlot[], index: number, v: RecordVisitor): void {
  for (const f of slots) {
    const at = base + f.at;
    if (f.holds === 'type') v.type?.(at, o.u32(at), f.use, index);
    else v.name?.(at, o.u32(at), f.use, index);
  }
}

/** What a word of a record holds, by {@link wordRole}. */
export enum WordRole { Plain = 0, TypeId = 1, Name = 2, Unknown = 3 }

interface WordRoles {
  /** Role of each word of the header and the struct after it. */
  fixed: Uint8Array;
  /** Role of each word of an element (empty when the kind has none). */
  element: Uint8Array;
}

function rolesOf(slots: readonly FieldSlot[], bytes: number): Uint8Array {
  const roles = new Uint8Array(bytes >>> 2);
  for (const f of slots) roles[f.at >>> 2] = f.holds === 'type' ? WordRole.TypeId : WordRole.Name;
  return roles;
}

/** {@link RECORD_SHAPES} word by word, so that {@link wordRole} is two array reads. */
const WORD_ROLES: readonly (WordRoles | undefined)[] = RECORD_SHAPES.map((s) =>
  s && { fixed: rolesOf(s.fixed, Rec.TYPE_HEADER_SIZE + s.infoSize), element: rolesOf(s.element, s.elemSize) });

/**
 * What word `w` (0 = `name_off`, 1 = `info`, 2 = `size`/`type`, 3... the payload) of a record
 * of `kind` holds: the same answer {@link visitRecord} gives, without a callback, for loops
 * that go over every word. Past the name, every word of a kind btfkit does not know is
 * {@link WordRole.Unknown} except `info`.
 */
export function wordRole(kind: number, w: number): WordRole {
  const roles = WORD_ROLES[kind];
  if (!roles) return w === 0 ? WordRole.Name : w === 1 ? WordRole.Plain : WordRole.Unknown;
  const { fixed, element } = roles;
  if (w < fixed.length) return fixed[w]! as WordRole;
  return element.length === 0 ? WordRole.Plain : element[(w - fixed.length) % element.length]! as WordRole;
}

/** Absolute end of the record of type `id` in its owner's bytes. */
export function recordEnd(owner: Btf, id: number): number {
  const index = id - owner.firstId;
  return index + 1 < owner.typeOffsets.length ? owner.typeOffsets[index + 1]! : owner.typeStart + owner.header.typeLen;
}
