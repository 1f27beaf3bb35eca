import { VERSION } from '../version.js';
import { UsageError } from './args.js';
import { print } from './output.js';

export { UsageError };

/** Each command's usage and description, as `btfkit CMD --help` prints it. */
export const COMMAND_HELP: Readonly<Record<string, string>> = {
  dump: `  btfkit dump [FILE] [--base BASE] [--format raw|json|c] [--unsorted] [--root TYPE]...
      Print every type of FILE (raw BTF or an ELF file with .BTF; default
      /sys/kernel/btf/vmlinux). Split BTF (a module's) needs the vmlinux it was
      built against: --base BASE; files under /sys/kernel/btf/ other than
      vmlinux get /sys/kernel/btf/vmlinux. When FILE does not match BASE, a
      warning on stderr says so and the dump follows anyway (bpftool prints it
      without a word). raw is byte-identical to bpftool's 'btf dump file FILE
      format raw', json to 'bpftool -j btf dump file FILE' (v7.2 and later:
      7.1 writes a backslash in a name as \\n); c is bpftool v7.8's 'format c'
      (vmlinux.h), sorted unless --unsorted. --root TYPE (a name, 'struct
      NAME' or an id from 1; repeatable) limits the dump to TYPE and, for c,
      everything it needs (bpftool's root_id).
`,
  check: `  btfkit check FILE... [--base BASE] [--json] [--object] [--strict] [--kernel]
                       [--kernel-version X.Y] [--max-evidence N]
      For split BTF (a module), decide whether it reads correctly on BASE
      (default /sys/kernel/btf/vmlinux): matched, mismatched (with the broken
      references, the first N shown, default 5), standalone or not-split.
      Then check the BTF the way the kernel's verifier does and list every
      violation. --object accepts what clang leaves for libbpf to fix (extern
      funcs/vars), --strict adds the rules the kernel does not enforce.
      --kernel also reports what no kernel up to 6.18 loads (vlen > 65535,
      layout section, > 16 MiB, unknown kinds); --kernel-version X.Y that and
      what arrived after release X.Y. --json: one array, an object per FILE.
      BASE is read once; if it cannot be read, nothing is checked (exit 1).
      Exit: 0 all valid and matched, 1 unreadable or invalid, 3 a module
      mismatched its base, 4 a module is standalone (no mismatch).
`,
  standalone: `  btfkit standalone MOD --base BASE -o OUT [--force]
      Write MOD's types and every base type they reach as self-contained BTF.
      Refuses a MOD that does not match BASE unless --force.
`,
  split: `  btfkit split IN --base BASE -o OUT [--renumber]
      Turn self-contained BTF back into split BTF on BASE: types equal to base
      types become references to them. --renumber only shifts ids and string
      offsets after BASE's (how the kernel presents a standalone module).
`,
  merge: `  btfkit merge --base BASE MOD... -o OUT [--force] [--json] [--dedup]
      One split blob holding every module's types, renumbered after BASE
      without overlapping ids (bpftool reads it with --base-btf BASE). Prints
      each module's new id range on stderr, or with --json an array of
      {"name", "firstId", "endId", "originalFirstId"} on stdout. Refuses a MOD
      that does not match BASE unless --force. --dedup deduplicates the result
      as 'btfkit dedup' does (types equal to BASE's or to another module's
      appear once) and prints the type counts instead of the ranges (--json:
      {"inputTypes", "outputTypes"}).
`,
  dedup: `  btfkit dedup IN [--base BASE] -o OUT [--map MAP.json]
      Deduplicate IN (raw BTF or ELF .BTF) with libbpf's algorithm (btf__dedup):
      OUT is what libbpf 1.1 writes, byte for byte. Split BTF (a module, or
      merged modules) needs --base BASE: its types equal to BASE's collapse
      onto them and OUT is split BTF on BASE. --map writes where each input
      type went: {"firstId": F, "newIds": [...]}, the new id of each input
      id from F on. Prints the type counts on stderr.
`,
  minimize: `  btfkit minimize OBJ... [--target BTF|DIR] -o OUT [--split]
      Write the smallest BTF that gives each OBJ (a BPF object with CO-RE
      relocations) the same CO-RE results as the target: the types and struct
      members the relocations use, nothing else (bpftool's 'gen min_core_btf
      TARGET OUT OBJ...', whose output it equals byte for byte for a vmlinux
      target). --target is a BTF file (vmlinux, raw or ELF) or a folder laid
      out like /sys/kernel/btf (vmlinux and module files): types the objects
      need from modules are kept too. Default /sys/kernel/btf. OUT is one raw
      BTF file with every kept type (vmlinux's first); with --split, a folder
      that gets vmlinux and, for each module with kept types, a file split on
      it, as /sys/kernel/btf lays them out. Prints what it kept on stderr.
`,
  find: `  btfkit find NAME [--kind KIND] [--base BASE] [--json] [MOD...]
      Where a type named NAME is defined: in BASE (default
      /sys/kernel/btf/vmlinux) and each MOD, or, with neither MOD nor --base,
      in the running kernel's vmlinux and every module under /sys/kernel/btf.
      One line per definition: WHERE<TAB>[ID] KIND 'NAME', with the id the
      type has in that file read on its base; --json prints
      [{"module", "id", "kind"}].
      --kind limits the search to one kind (struct, union, enum, typedef,
      func, ...). A MOD that does not match BASE gets a warning on stderr.
      Exit 0 when found, 1 when not (one line on stderr).
`,
  vars: `  btfkit vars [--base BASE] [--name NAME] [--json] [MOD... | DIR]
      Every kernel variable (VAR) of BASE (default /sys/kernel/btf/vmlinux) and
      each MOD, or of a folder laid out like /sys/kernel/btf (vmlinux and
      module files, e.g. with an extra-variables module), or, with neither,
      of the running kernel and its modules. One line per variable:
      WHERE<TAB>[ID] SECTION+OFFSET<TAB>SIZE<TAB>LINKAGE<TAB>C declaration;
      ('-' for a VAR no DATASEC places). --name keeps one name. --json prints
      [{"btf", "id", "name", "linkage", "section", "offset", "size", "typeId",
      "declaration"}]. Exit 0 when some were found, 1 when none.
`,
  convert: `  btfkit convert IN -o OUT [--base BASE] [--endian little|big] [--layout|--no-layout]
                 [--for-kernel X.Y]
      Re-encode IN (raw BTF or ELF .BTF) as raw BTF: byte order and the optional
      2026 layout section. Without options the output equals the input's BTF.
      --for-kernel X.Y refuses to write what release X.Y cannot load.
`,
};

export const HELP = `btfkit — the BPF Type Format toolkit

Usage:
${Object.values(COMMAND_HELP).join('')}  btfkit help [COMMAND] | version
  btfkit COMMAND --help

Exit codes: 0 success, 1 bad input or unwritable output (one line on stderr),
2 wrong usage (check adds 3 and 4, find uses 1 for not found, see above).
`;

const COMMANDS: Readonly<Record<string, () => Promise<(args: string[]) => number>>> = {
  dump: async () => (await import('./dump.js')).dump,
  check: async () => (await import('./check.js')).check,
  convert: async () => (await import('./convert.js')).convert,
  standalone: async () => (await import('./modules.js')).standalone,
  split: async () => (await import('./modules.js')).split,
  merge: async () => (await import('./modules.js')).merge,
  find: async () => (await import('./modules.js')).find,
  vars: async () => (await import('./load.js')).vars,
  dedup: async () => (await import('./dedup.js')).dedup,
  minimize: async () => (await import('./minimize.js')).minimize,
};

/** True when the arguments ask for help: `--help` or `-h` before any `--`. */
function asksForHelp(args: string[]): boolean {
  const end = args.indexOf('--');
  const options = end < 0 ? args : args.slice(0, end);
  return options.includes('--help') || options.includes('-h');
}

/**
 * Runs one command and returns its exit code. Each command's module is imported only when it
 * runs, so `btfkit dump` does not pay for loading the C dumper or the module tools.
 */
export async function run(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'version': case '--version': case '-V':
      print(`btfkit ${VERSION}\n`);
      return 0;
    case undefined: case 'help': case '--help': case '-h': {
      const topic = cmd === 'help' ? rest[0] : undefined;
      if (topic !== undefined && !Object.hasOwn(COMMAND_HELP, topic)) throw new UsageError(`no command '${topic}'`);
      print(topic === undefined ? HELP : `Usage:\n${COMMAND_HELP[topic]}`);
      return cmd === undefined ? 2 : 0;
    }
  }
  if (!Object.hasOwn(COMMANDS, cmd)) throw new UsageError(`unknown command '${cmd}'`);
  if (asksForHelp(rest)) {
    print(`Usage:\n${COMMAND_HELP[cmd]}`);
    return 0;
  }
  const command = await COMMANDS[cmd]!();
  try {
    return command(rest);
  } catch (e) {
    if (e instanceof UsageError) e.command ??= cmd;
    throw e;
  }
}
