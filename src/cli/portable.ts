import { BtfError } from '../errors.js';
import { Btf } from '../btf/btf.js';
import { BTF_BASE_SECTION, BTF_IDS_SECTION, BTF_SECTION, btfSections } from '../elf/elf.js';
import { editElfSections } from '../elf/write.js';
import { loadBtfFile, readInput, readWholeInput } from '../node/files.js';
import { distillBase } from '../split/distill.js';
import { loadModuleBtf, moduleSections, type ModuleSections } from '../split/load.js';
import { rebaseBtfIds, rebaseModule, refusalSummary } from '../split/rebase.js';
import { matchDistilledBase, relocateOntoBase } from '../split/relocate.js';
import { BTF_BASE_CHECKSUM_SECTION, baseChecksum, checksumHex, checksumSection } from '../split/stamp.js';
import { parse, UsageError } from './args.js';
import { refuseMismatch } from './modules.js';
import { print, printError, printing, writeOutputFile } from './output.js';

/*
 * Commands that make a module's BTF fit another base, or say which base it fits: distill,
 * relocate, rebase, stamp. Each reads the whole module file, since it writes it back with its
 * BTF sections changed (a compressed module comes out decompressed).
 */

/** The module's BTF sections, its ELF headers parsed once for every step that follows. */
function moduleOf(bytes: Uint8Array, file: string): ModuleSections {
  try {
    return moduleSections(bytes);
  } catch (e) {
    if (e instanceof BtfError && e.file === undefined) throw e.inFile(file);
    throw e;
  }
}

function editSections(bytes: Uint8Array, file: string, set: Record<string, Uint8Array>, remove: string[] = []): Uint8Array {
  try {
    return editElfSections(bytes, { set, remove });
  } catch (e) {
    if (e instanceof BtfError && e.file === undefined) throw e.inFile(file);
    throw e;
  }
}

export function distill(args: string[]): number {
  const { values, positionals } = parse(args, {
    base: { type: 'string' },
    output: { type: 'string', short: 'o' },
    'base-out': { type: 'string' },
    'split-out': { type: 'string' },
    force: { type: 'boolean', default: false },
  });
  if (positionals.length !== 1) throw new UsageError('distill takes one module file');
  if (!values.base) throw new UsageError('distill needs --base BASE (the vmlinux the module was built against)');
  const out = values.output as string | undefined;
  const baseOut = values['base-out'] as string | undefined;
  const splitOut = values['split-out'] as string | undefined;
  if (!out && !baseOut && !splitOut) throw new UsageError('distill needs -o OUT.ko, or --base-out and --split-out');
  if (!out && (!baseOut || !splitOut)) throw new UsageError('--base-out and --split-out go together');
  const file = positionals[0]!;
  const base = loadBtfFile(values.base as string);
  const bytes = out ? readWholeInput(file) : readInput(file);
  const sections = moduleOf(bytes, file);
  if (sections.distilledBase) throw new BtfError('bad-argument', `the module already has a distilled base (${BTF_BASE_SECTION}); see 'btfkit relocate'`, { file });
  if (out && !sections.elf) throw new BtfError('bad-argument', 'writing a .ko (-o) needs an ELF module; for raw split BTF use --base-out and --split-out', { file });
  refuseMismatch(sections, base, file, values.force as boolean);
  const mod = loadModuleBtf(sections, base, file);
  let d;
  try {
    d = distillBase(mod);
  } catch (e) {
    if (e instanceof BtfError && e.file === undefined) throw e.inFile(file);
    throw e;
  }
  // A base checksum names the one base the module fits; a distilled module fits any base it relocates onto.
  if (out) writeOutputFile(out, editSections(bytes, file, { [BTF_SECTION]: d.split, [BTF_BASE_SECTION]: d.base }, [BTF_BASE_CHECKSUM_SECTION]));
  if (baseOut) writeOutputFile(baseOut, d.base);
  if (splitOut) writeOutputFile(splitOut, d.split);
  printError(`btfkit: distilled base of ${d.distilledIds.length} types; ${d.movedIds.length} base types copied into the module's BTF\n`);
  return 0;
}

export function relocate(args: string[]): number {
  const { values, positionals } = parse(args, {
    base: { type: 'string' },
    output: { type: 'string', short: 'o' },
    distilled: { type: 'string' },
    raw: { type: 'boolean', default: false },
  });
  if (positionals.length !== 1) throw new UsageError('relocate takes one module file');
  if (!values.base) throw new UsageError('relocate needs --base BASE (the vmlinux to relocate onto)');
  if (!values.output) throw new UsageError('relocate needs -o OUT');
  const file = positionals[0]!;
  const base = loadBtfFile(values.base as string);
  const bytes = readWholeInput(file);
  const sections = moduleOf(bytes, file);
  const btfBytes = sections.btf;
  let distilledBytes: Uint8Array | undefined;
  if (sections.elf) {
    distilledBytes = sections.distilledBase;
    if (values.distilled) throw new UsageError('--distilled is for raw split BTF; this module carries its own .BTF.base');
  } else {
    if (!values.distilled) throw new UsageError('raw split BTF needs its distilled base: --distilled BASE_BLOB');
    distilledBytes = readInput(values.distilled as string);
  }
  if (!distilledBytes) throw new BtfError('bad-argument', `the module has no distilled base (${BTF_BASE_SECTION}), so it cannot be relocated; 'btfkit rebase --from OLD --to NEW' moves a module between bases`, { file });
  const distilled = Btf.parse(distilledBytes, { file: values.distilled as string | undefined ?? `${file} ${BTF_BASE_SECTION}` });
  const split = Btf.parse(btfBytes, { base: distilled, file });
  const { missing } = matchDistilledBase(split, base);
  if (missing.length) {
    const shown = missing.slice(0, 3).map((m) => m.reason).join('; ');
    throw new BtfError('bad-base', `cannot be relocated onto ${values.base as string}: ${missing.length} of the ${distilled.ownTypeCount} types of its distilled base do not fit: ${shown}${missing.length > 3 ? `; and ${missing.length - 3} more` : ''}`, { file });
  }
  const relocated = relocateOntoBase(split, base);
  const raw = !sections.elf || (values.raw as boolean);
  writeOutputFile(values.output as string, raw ? relocated : editSections(bytes, file, { [BTF_SECTION]: relocated }, [BTF_BASE_SECTION]));
  return 0;
}

export function rebase(args: string[]): number {
  const { values, positionals } = parse(args, {
    from: { type: 'string' },
    to: { type: 'string' },
    output: { type: 'string', short: 'o' },
    json: { type: 'boolean', default: false },
    force: { type: 'boolean', default: false },
  });
  if (positionals.length !== 1) throw new UsageError('rebase takes one module file');
  if (!values.from || !values.to) throw new UsageError('rebase needs --from OLD_BASE and --to NEW_BASE');
  if (!values.output) throw new UsageError('rebase needs -o OUT');
  const file = positionals[0]!;
  const oldBase = loadBtfFile(values.from as string);
  const newBase = loadBtfFile(values.to as string);
  const bytes = readWholeInput(file);
  const sections = moduleOf(bytes, file);
  refuseMismatch(sections, oldBase, file, values.force as boolean);
  const mod = loadModuleBtf(sections, oldBase, file);
  let r;
  try {
    r = rebaseModule(mod, newBase);
  } catch (e) {
    if (e instanceof BtfError && e.file === undefined) throw e.inFile(file);
    throw e;
  }
  const report = {
    file, rebased: r.bytes !== undefined, counts: r.counts, copiedIntoModule: r.moved,
    types: r.types.filter((t) => t.fate !== 'kept'),
  };
  if (!r.bytes) {
    if (values.json) printing(0, () => print(JSON.stringify(report, null, 1) + '\n'));
    throw new BtfError('bad-base', `cannot be rebased onto ${values.to as string}: ${refusalSummary(r)}`, { file });
  }
  let outBytes = r.bytes;
  if (sections.elf) {
    const set: Record<string, Uint8Array> = { [BTF_SECTION]: r.bytes };
    // resolve_btfids numbered .BTF_ids for the old base; they must name the same types on the new one.
    let ids: Uint8Array | undefined;
    try {
      ids = rebaseBtfIds(sections.elf, mod, Btf.parse(r.bytes, { base: newBase }));
    } catch (e) {
      if (e instanceof BtfError && e.file === undefined) throw e.inFile(file);
      throw e;
    }
    if (ids) set[BTF_IDS_SECTION] = ids;
    // A stamped module stays stamped, now with the base it fits.
    if (btfSections(sections.elf).has(BTF_BASE_CHECKSUM_SECTION)) set[BTF_BASE_CHECKSUM_SECTION] = checksumSection(newBase);
    outBytes = editSections(bytes, file, set, sections.distilledBase ? [BTF_BASE_SECTION] : []);
  }
  writeOutputFile(values.output as string, outBytes);
  const c = r.counts;
  if (values.json) return printing(0, () => print(JSON.stringify(report, null, 1) + '\n'));
  printError(`btfkit: ${r.types.length} named base types: ${c.kept} kept, ${c.moved} moved, ${c.changed} changed; ${r.moved} base types copied into the module\n`);
  for (const t of r.types) {
    if (t.fate === 'changed') printError(`  changed ${t.type} -> [${t.toId}]: ${t.reason}\n`);
  }
  return 0;
}

export function stamp(args: string[]): number {
  const { values, positionals } = parse(args, {
    base: { type: 'string' },
    output: { type: 'string', short: 'o' },
    force: { type: 'boolean', default: false },
  });
  if (positionals.length !== 1) throw new UsageError('stamp takes one module file');
  if (!values.base) throw new UsageError('stamp needs --base BASE (the vmlinux the module was built against)');
  if (!values.output) throw new UsageError('stamp needs -o OUT.ko');
  const file = positionals[0]!;
  const base = loadBtfFile(values.base as string);
  const bytes = readWholeInput(file);
  const sections = moduleOf(bytes, file);
  if (!sections.elf) throw new BtfError('bad-argument', 'stamp writes a section into an ELF module; this is raw BTF', { file });
  if (sections.distilledBase) throw new BtfError('bad-argument', `the module has a distilled base (${BTF_BASE_SECTION}): it is relocated onto any base that has its types, so a checksum of one base does not apply`, { file });
  refuseMismatch(sections, base, file, values.force as boolean);
  writeOutputFile(values.output as string, editSections(bytes, file, { [BTF_BASE_CHECKSUM_SECTION]: checksumSection(base) }));
  printError(`btfkit: stamped with the base checksum ${checksumHex(baseChecksum(base))}\n`);
  return 0;
}
