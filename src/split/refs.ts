import type { Btf } from '../btf/btf.js';
import { kindName } from '../format/kinds.js';

/** `[id] KIND 'name'`, the way bpftool's raw dump introduces a type. */
export function describeType(btf: Btf, id: number): string {
  if (id === 0) return '[0] void';
  if (!btf.has(id)) return `[${id}] (no such type)`;
  const name = btf.str(btf.nameOffset(id));
  return `[${id}] ${kindName(btf.kind(id))} '${name === undefined ? '<bad name offset>' : name || '(anon)'}'`;
}
