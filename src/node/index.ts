/** The Node-only layer: files and the running kernel's /sys/kernel/btf. */
export * from './files.js';
export * from './sysfs.js';
export * from './compressed.js';
