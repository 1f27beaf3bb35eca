import type { Btf } from '../btf/btf.js';
import { kindName } from '../format/kinds.js';

// Field iteration moved to the core (src/btf/slots.ts); these re-exports keep the modules
// that still import it from here working until they move too.
export { visitRecord, wordRole, WordRole, recordEnd, type RecordVisitor, type TypeUse, type NameUse } from '../btf/slots.js';

/** `[id] KIND 'name'`, the way bpftool's raw dump introduces a type. */
export function describeType(btf: Btf, id: number): string {
  if (id === 0) return '[0] void';
  if (!btf.has(id)) return `[${id}] (no such type)`;
  const name = btf.str(btf.nameOffset(id));
  return `[${id}] ${kindName(btf.kind(id))} '${name === undefined ? '<bad name offset>' : name || '(anon)'}'`;
}

/** True when the NUL-terminated strings at `pa` in `a` and `pb` in `b` are equal, compared as bytes. */
export function sameCString(a: Uint8Array, pa: number, b: Uint8Array, pb: number): boolean {
  for (;;) {
    const x = a[pa++];
    if (x !== b[pb++]) return false;
    if (x === 0 || x === undefined) return true;
  }
}
