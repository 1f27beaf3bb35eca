import { setFlagsFromString } from 'node:v8';

/**
 * Tunes V8 for a command on one input, which ends within a fraction of a second, most of it in
 * code the JIT has not optimised yet. Without inlining, TurboFan compiles each hot function
 * several times faster, so optimised code arrives sooner and the second core is not kept busy
 * compiling: on vmlinux, 15 to 40 ms less wall time for the C, raw and JSON dumps and for
 * check, 50 to 90 ms less CPU (docs/BENCHMARKS.md). Longer runs lose by it (checking 1,121
 * modules in one process takes a fifth longer), so batch commands leave V8 as it is. Called
 * once the arguments are parsed, before any BTF is read; the library itself never sets flags.
 * `BTFKIT_V8_INLINING=1` keeps V8's default, for comparison.
 */
export function tuneForShortRun(): void {
  if (process.env.BTFKIT_V8_INLINING === undefined) setFlagsFromString('--no-turbo-inlining');
}
