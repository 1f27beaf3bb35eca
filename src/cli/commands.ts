import { VERSION } from '../version.js';
import { UsageError } from './args.js';

export { UsageError };

export const HELP = `btfkit — the BPF Type Format toolkit

Usage:
  btfkit dump [FILE] [--base BASE] [--format raw|json|c] [--unsorted] [--root TYPE]...
      Print every type of FILE (raw BTF or an ELF file with .BTF; default
      /sys/kernel/btf/vmlinux). Files under /sys/kernel/btf/ other than vmlinux
      get /sys/kernel/btf/vmlinux as their base. raw and json are byte-identical
      to bpftool's 'btf dump file FILE format raw' and 'bpftool -j btf dump';
      c is bpftool v7.8's 'format c' (vmlinux.h), sorted unless --unsorted.
      --root TYPE (a name or an id, repeatable) limits the dump to TYPE and,
      for c, everything it needs (bpftool's root_id).
  btfkit check FILE... [--base BASE] [--json] [--object] [--strict] [--kernel]
               [--kernel-version X.Y]
      For split BTF (a module), decide whether it reads correctly on BASE
      (default /sys/kernel/btf/vmlinux): matched, mismatched (with the broken
      references), standalone or not-split. Then check the BTF the way the
      kernel's verifier does and list every violation. --object accepts what
      clang leaves for libbpf to fix (extern funcs/vars), --strict adds the
      rules the kernel does not enforce. --kernel also reports what no kernel
      up to 6.18 loads (vlen > 65535, layout section, > 16 MiB, unknown
      kinds); --kernel-version X.Y that and what arrived after release X.Y.
      Exit: 0 all valid and matched, 1 unreadable or invalid, 3 a module
      mismatched its base, 4 a module is standalone (no mismatch).
  btfkit standalone MOD --base BASE -o OUT [--force]
      Write MOD's types and every base type they reach as self-contained BTF.
  btfkit split IN --base BASE -o OUT [--renumber]
      Turn self-contained BTF back into split BTF on BASE: types equal to base
      types become references to them. --renumber only shifts ids and string
      offsets after BASE's (how the kernel presents a standalone module).
  btfkit merge --base BASE MOD... -o OUT [--force] [--json]
      One split blob holding every module's types, renumbered after BASE
      without overlapping ids.
  btfkit find NAME [--kind KIND] [--base BASE] [MOD...]
      Where a type is defined: vmlinux and every module (default: the running
      kernel's /sys/kernel/btf), with each module's own id.
  btfkit convert IN -o OUT [--base BASE] [--endian little|big] [--layout|--no-layout]
                 [--for-kernel X.Y]
      Re-encode IN (raw BTF or ELF .BTF) as raw BTF: byte order and the optional
      2026 layout section. Without options the output equals the input's BTF.
      --for-kernel X.Y refuses to write what release X.Y cannot load.
  btfkit help | version

Exit codes: 0 success, 1 bad input (one line on stderr), 2 wrong usage\n(check adds 3 and 4, see above).
`;

/**
 * Runs one command and returns its exit code. Each command's module is imported only when it
 * runs, so `btfkit dump` does not pay for loading the C dumper or the module tools.
 */
export async function run(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'dump': return (await import('./dump.js')).dump(rest);
    case 'check': return (await import('./check.js')).check(rest);
    case 'convert': return (await import('./convert.js')).convert(rest);
    case 'standalone': return (await import('./modules.js')).standalone(rest);
    case 'split': return (await import('./modules.js')).split(rest);
    case 'merge': return (await import('./modules.js')).merge(rest);
    case 'find': return (await import('./modules.js')).find(rest);
    case 'version': case '--version': case '-V':
      process.stdout.write(`btfkit ${VERSION}\n`);
      return 0;
    case undefined: case 'help': case '--help': case '-h':
      process.stdout.write(HELP);
      return cmd === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command '${cmd}'`);
  }
}
