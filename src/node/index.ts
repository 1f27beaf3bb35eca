/**
 * `btfkit/node`: the Node-only layer: reading files (bounded, compressed or not) and the running
 * kernel's /sys/kernel/btf.
 *
 * Every name is listed: what this file does not name is not public (test/exports.test.ts).
 */

// src/node/files.ts
export {
  loadBtfFile,
  readInput,
  readWholeInput,
  readModule,
  defaultBasePath,
  SYSFS_BTF_DIR,
  SYSFS_VMLINUX,
  type LoadFileOptions,
} from './files.js';

// src/node/input.ts
export {
  DEFAULT_MAX_INPUT_SIZE,
  MAX_INPUT_ENV,
  type ReadOptions,
} from './input.js';

// src/node/sysfs.ts
export {
  KernelBtf,
} from './sysfs.js';

// src/node/kernels.ts
export {
  kernelTargets,
  type KernelTarget,
} from './kernels.js';

// src/node/compressed.ts
export {
  decompressModule,
  maybeDecompress,
  readMaybeCompressed,
  MAX_DECOMPRESSED_SIZE,
} from './compressed.js';
