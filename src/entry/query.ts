/**
 * `btfkit/query`: the shared vocabulary that module tools, CO-RE and dedup build on: libbpf's
 * sizing (`btf__resolve_size`, `btf__align_of`, `btf__pointer_size`), the field iterator that
 * visits every type id and name offset of a record, type equivalence, and the type set that
 * searches vmlinux plus modules as one, by exact or essential name. Browser-safe.
 *
 * Every name is listed: what this file does not name is not public (test/exports.test.ts).
 */

// src/btf/query.ts
export {
  pointerSize,
  declaredPointerSize,
  skipModsAndTypedefs,
  sizeOf,
  alignOf,
  essentialName,
} from '../btf/query.js';

// src/btf/slots.ts
export {
  visitRecord,
  type RecordVisitor,
  type TypeUse,
  type NameUse,
} from '../btf/slots.js';

// src/btf/equivalence.ts
export {
  typesEquivalent,
  mapEquivalentTypes,
  mapOntoBase,
} from '../btf/equivalence.js';

// src/btf/typeset.ts
export {
  TypeSet,
  TypeUnion,
  type TypeHit,
  type ModuleSource,
} from '../btf/typeset.js';
