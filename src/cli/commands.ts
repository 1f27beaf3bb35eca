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
                       [--kernel-version X.Y] [--max-evidence N] [--from OLD]
      For split BTF (a module), decide whether it reads correctly on BASE
      (default /sys/kernel/btf/vmlinux): matched, mismatched (with the broken
      references, the first N shown, default 5), standalone or not-split.
      A module stamped by 'btfkit stamp' is judged by its base checksum
      alone ('matched (checksum)'). --from OLD: for a module mismatched on
      BASE, also say whether 'btfkit rebase --from OLD' onto BASE would work.
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
  find: `  btfkit find NAME [--kind KIND] [--base BASE] [--json] [MOD... | DIR]
      Where a type named NAME is defined: in BASE (default
      /sys/kernel/btf/vmlinux) and each MOD, in a folder DIR laid out like
      /sys/kernel/btf, or, with neither MOD nor --base, in the running
      kernel's vmlinux and every module under /sys/kernel/btf.
      One line per definition: WHERE<TAB>[ID] KIND 'NAME', with the id the
      type has in that file read on its base; --json prints
      [{"module", "id", "kind"}].
      --kind limits the search to one kind (struct, union, enum, typedef,
      func, ...). A MOD that does not match BASE gets a warning on stderr.
      Exit 0 when found, 1 when not (one line on stderr).
`,
  core: `  btfkit core OBJ... [--target BTF|DIR]... [--base BASE] [--json] [-o OUT]
      Relocate each BPF object's CO-RE records (.BTF.ext) as libbpf 1.1 does
      when it loads it, against each target: a vmlinux BTF (raw or ELF), or a
      folder laid out like /sys/kernel/btf (vmlinux and module files; CO-RE
      searches vmlinux, then the modules). Default: the running kernel. With
      --base BASE, the --target files are modules on BASE, one target. One
      line per relocation: SECTION+OFFSET KIND local spec → where found and
      target spec: field old → new, or why it was poisoned or failed.
      --json: [{"file", "target", "relocations": [...]}], schema in
      docs/CORE.md. -o OUT (one object, one target): the object with its
      instructions patched. Exit 0 when every relocation was patched, 5 when
      some were poisoned or failed (all are printed), 1 on unreadable input.
`,
  portability: `  btfkit portability OBJ... [--target BTF|DIR]... [--json]
      Will each BPF object load on each kernel? CO-RE relocations (a poisoned
      one counts only when a program can reach it: existence guards make it
      dead code), and each program's section and BTF attach target (fentry,
      fexit, tp_btf, lsm, iter) in vmlinux or a module. A target is a vmlinux
      BTF file, a folder with a vmlinux file (laid out like /sys/kernel/btf),
      a folder with vmlinux.btf (a kernel build: modules are the .ko files
      under its modules/), or a folder of such folders, one kernel each.
      Default: the running kernel. Prints a table, objects by kernels: ok, or
      how many problems, then the first reason of each failing pair.
      --json: [{"file", "target", "ok", "programs", "externs", "findings"}],
      schema in docs/LOAD.md. Exit 0 when every object loads everywhere, 5
      when one does not somewhere, 1 on unreadable input.
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
  distill: `  btfkit distill MOD --base BASE (-o OUT.ko | --base-out B --split-out S) [--force]
      Give MOD a distilled base, as pahole --btf_features=distilled_base does
      for Linux 6.11+ (libbpf's btf__distill_base): the named INT, FLOAT,
      ENUM, STRUCT, UNION and FWD types it uses from BASE, structs and enums
      without members, in a .BTF.base section; pointers, typedefs and
      anonymous types it reaches are copied into its .BTF. -o writes the .ko
      with the two sections replaced (the rest of the ELF unchanged);
      --base-out/--split-out write the raw blobs. Refuses a MOD that does not
      match BASE unless --force.
`,
  relocate: `  btfkit relocate MOD --base NEW -o OUT [--raw] [--distilled BLOB]
      Renumber a module with a distilled base (.BTF.base) onto NEW, as the
      kernel and libbpf do when they load it: a .ko comes out with .BTF split
      on NEW and no .BTF.base (--raw: the raw split BTF); raw split BTF needs
      its distilled base as --distilled BLOB. Refused, naming the type and the
      reason, when a type of the distilled base is missing from NEW, is there
      several times, or is a struct the module embeds whose size differs.
`,
  rebase: `  btfkit rebase MOD --from OLD --to NEW -o OUT [--json] [--force]
      Move MOD's split BTF, built on OLD, onto NEW: distill on OLD, relocate
      onto NEW. A .ko comes out with the new .BTF and its .BTF_ids renumbered
      for NEW (a stamped one restamped), raw split BTF as raw. Reports on
      stderr what became of each named base type the module uses (kept,
      moved to another id, changed); --json prints the report on stdout.
      Refused, naming the types and reasons, when the module's base types do
      not fit NEW.
`,
  stamp: `  btfkit stamp MOD.ko --base BASE -o OUT.ko [--force]
      Write a .BTF.base_checksum section into MOD: SHA-256 of BASE's type and
      string sections, the exact base MOD's split BTF refers into. 'check'
      then decides by it: matched on BASE, mismatched (checksum) on any other
      base, even one that differs by a single appended type. Refuses a MOD
      that does not match BASE unless --force.
`,
  convert: `  btfkit convert IN -o OUT [--base BASE] [--endian little|big] [--layout|--no-layout]
                 [--for-kernel X.Y]
      Re-encode IN (raw BTF or ELF .BTF) as raw BTF: byte order and the optional
      2026 layout section. Without options the output equals the input's BTF.
      --for-kernel X.Y rewrites, keeping every type id, what release X.Y cannot
      load, as libbpf sanitizes BTF before loading it (no layout section; FLOAT,
      DECL_TAG, TYPE_TAG, ENUM64, VAR/DATASEC, FUNC and kind_flag uses the
      release lacks become kinds it has; see docs/KERNELS.md). For a BPF object
      (.o) it first places DATASECs and VARs from the ELF sections and symbols
      and lays out .ksyms and .kconfig externs, as libbpf does. Output is raw
      BTF, ready for BPF_BTF_LOAD; what cannot be rewritten (over 65535
      members, unknown kinds) is an error.
`,
};

export const HELP = `btfkit — the BPF Type Format toolkit

Usage:
${Object.values(COMMAND_HELP).join('')}  btfkit help [COMMAND] | version
  btfkit COMMAND --help

Exit codes: 0 success, 1 bad input or unwritable output (one line on stderr),
2 wrong usage (check adds 3 and 4, find uses 1 for not found, core 5 for
unresolved relocations, portability 5 for an object that would not load
somewhere, see above).
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
  core: async () => (await import('./core.js')).core,
  portability: async () => (await import('./portability.js')).portability,
  dedup: async () => (await import('./dedup.js')).dedup,
  distill: async () => (await import('./portable.js')).distill,
  relocate: async () => (await import('./portable.js')).relocate,
  rebase: async () => (await import('./portable.js')).rebase,
  stamp: async () => (await import('./portable.js')).stamp,
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
