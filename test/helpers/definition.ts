import type { Btf } from '../../src/btf/btf.js';

/**
 * What a type "is" for the distill and rebase tests, independent of ids: its view with every
 * type reference written out, through pointers, modifiers, arrays, function prototypes and
 * anonymous types, down to the first named type, which appears as `KIND 'name'` only (its own
 * definition is that type's business, and on another build it may legitimately differ; a FWD
 * reads as the struct or union it declares). Two
 * types with the same definition text read the same in a C declaration: same members at the
 * same offsets, of the same spelled types. Ids, name offsets and DATASEC offsets filled by the
 * loader are what this leaves out.
 */
export function definitionText(btf: Btf, id: number): string {
  return JSON.stringify(describe(btf, id, 0, true));
}

/**
 * A named type as C spells a reference to it: a forward declaration and the struct or union it
 * announces are one `struct NAME` (relocation may put a module's FWD on a full definition).
 */
function spelled(view: Record<string, unknown>): string {
  const name = String(view.name);
  if (view.kindName === 'FWD') return `${view.fwdKind === 'union' ? 'union' : 'struct'} '${name}'`;
  if (view.kindName === 'STRUCT') return `struct '${name}'`;
  if (view.kindName === 'UNION') return `union '${name}'`;
  return `${String(view.kindName)} '${name}'`;
}

const ID_KEYS = new Set(['type', 'indexType', 'returnType']);

function describe(btf: Btf, id: number, depth: number, top: boolean): unknown {
  if (id === 0) return 'void';
  if (!btf.has(id)) return `missing ${id}`;
  const view = btf.type(id) as unknown as Record<string, unknown>;
  if (!top && view.name !== '') return spelled(view);
  if (depth > 40) return `too deep at ${String(view.kindName)}`;
  return walk(btf, view, depth);
}

function walk(btf: Btf, value: unknown, depth: number): unknown {
  if (Array.isArray(value)) return value.map((v) => walk(btf, v, depth));
  if (value === null || typeof value !== 'object') return typeof value === 'bigint' ? String(value) : value;
  if (value instanceof Uint8Array) return Array.from(value);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === 'id' || k === 'nameOffset') continue;
    out[k] = ID_KEYS.has(k) && typeof v === 'number' ? describe(btf, v, depth + 1, false) : walk(btf, v, depth);
  }
  return out;
}
