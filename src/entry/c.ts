/**
 * `btfkit/c`: C for BTF: the `vmlinux.h` header bpftool writes (byte for byte), the C
 * declaration of one type, and the `--root` and type order helpers behind them. Browser-safe.
 *
 * Every name is listed: what this file does not name is not public (test/exports.test.ts).
 */

// src/dump/c/index.ts
export {
  dumpC,
  cHeader,
  cDeclaration,
  CDumper,
  resolveRoot,
  sortedTypeIds,
  type CDumpOptions,
} from '../dump/c/index.js';
