import { WireKind as Kind } from '../../format/kinds.js';
import { Rec } from '../../format/records.js';
import type { CContext } from './context.js';

/** `enum name`. */
export function writeEnumRef(ctx: CContext, id: number): void {
  const name = ctx.names.tagName(id);
  ctx.out.put('enum ');
  ctx.out.name(name);
}

/**
 * Writes enum `id` with its enumerators at nesting level `lvl`. Enumerators share C's
 * namespace with typedef names, so a clashing one gets a `___N` suffix. An enum whose size the
 * values alone would not give the compiler gets a `mode` attribute: `mode(byte)` for one byte,
 * `mode(word)` for eight bytes on 64-bit targets when no value needs 64 bits.
 */
export function writeEnumDef(ctx: CContext, id: number, lvl: number): void {
  const t = ctx.table;
  const out = ctx.out;
  const name = ctx.names.tagName(id);
  out.put('enum');
  if (t.nameOff[id] !== 0) {
    out.put(' ');
    out.name(name);
  }
  const n = t.vlen[id]!;
  if (n === 0) return;
  out.put(' {');
  const f = t.first[id]!;
  const signed = t.kflag[id] === 1;
  const is64 = t.kind[id] === Kind.Enum64;
  // An enumerator is two words (name, value); an ENUM64 one three (name, low, high half). Both
  // read inline with Rec's word constants: ENUM_NAME_WORD/ENUM64_NAME_WORD and
  // ENUM_VAL_WORD/ENUM64_VAL_LO_WORD are the same words, so one loop reads either.
  const stride = is64 ? Rec.ENUM64_WORDS : Rec.ENUM_WORDS;
  const end = f + n * stride;
  for (let e = f; e < end; e += stride) {
    const value = t.words[e + Rec.ENUM_NAME_WORD]!;
    const dups = ctx.names.countEnumerator(value);
    out.line(lvl + 1);
    out.putString(t.strBytes, value);
    if (dups > 1) {
      out.put('___');
      out.uint(dups);
    }
    out.put(' = ');
    const lo = t.words[e + Rec.ENUM_VAL_WORD]!;
    if (!is64) {
      if (signed) out.int(lo | 0);
      else out.uint(lo);
      out.put(',');
    } else {
      const hi = t.words[e + Rec.ENUM64_VAL_HI_WORD]!;
      out.put(`${value64(hi, lo, signed)}${signed ? 'LL' : 'ULL'},`);
    }
  }
  out.line(lvl);
  out.put('}');

  const size = t.ref[id]!;
  if (size === 1) {
    out.put(' __attribute__((mode(byte)))');
  } else if (size === 8 && ctx.ptrSize === 8) {
    let needsWord = true;
    if (is64) {
      for (let e = f; e < end; e += stride) {
        if (t.words[e + Rec.ENUM64_VAL_HI_WORD] !== 0) {
          needsWord = false;
          break;
        }
      }
    }
    if (needsWord) out.put(' __attribute__((mode(word)))');
  }
}

const TWO_32 = 4294967296;

function value64(hi: number, lo: number, signed: boolean): string {
  if (signed && hi >= 0x80000000) return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString();
  if (hi < 0x200000) return String(hi * TWO_32 + lo);
  return ((BigInt(hi) << 32n) | BigInt(lo)).toString();
}
