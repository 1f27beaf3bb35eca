import { Btf } from '../btf/btf.js';
import { loadBtf } from '../btf/source.js';
import { prepareObjectBtf, needsObjectFixups } from '../build/bpf-object.js';
import { convertBtf } from '../build/convert.js';
import { sanitizeBtf } from '../build/sanitize.js';
import { elfRole, isElf, parseElf } from '../elf/elf.js';
import { defaultBasePath, loadBtfFile, readInput } from '../node/files.js';
import { parse, UsageError, kernelVersionFlag } from './args.js';
import { baseNeeded, looksSplit } from './inputs.js';
import { writeOutputFile } from './output.js';
import { tuneForShortRun } from './tuning.js';

export function convert(args: string[]): number {
  const { values, positionals } = parse(args, {
    output: { type: 'string', short: 'o' },
    base: { type: 'string' },
    endian: { type: 'string' },
    layout: { type: 'boolean' },
    'no-layout': { type: 'boolean' },
    'for-kernel': { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError('convert takes one input file');
  tuneForShortRun();
  if (!values.output) throw new UsageError('convert needs -o OUT');
  const endian = values.endian as 'little' | 'big' | undefined;
  if (endian !== undefined && endian !== 'little' && endian !== 'big') throw new UsageError(`--endian takes little or big, not '${String(endian)}'`);
  if (values.layout && values['no-layout']) throw new UsageError('--layout and --no-layout exclude each other');
  const forKernel = kernelVersionFlag('for-kernel', values['for-kernel'] as string | undefined);
  if (forKernel !== undefined && values.layout) throw new UsageError('--for-kernel writes no layout section (no kernel up to 6.18 reads one): drop --layout');
  const input = positionals[0]!;
  const bytes = readInput(input);
  const basePath = (values.base as string | undefined) ?? defaultBasePath(input);
  if (basePath === undefined && looksSplit(bytes, input)) throw baseNeeded(input);
  const base = basePath === undefined ? undefined : loadBtfFile(basePath);
  let btf = loadBtf(bytes, { base, file: input });
  if (forKernel === undefined) {
    writeOutputFile(values.output as string, convertBtf(btf, { endian, layout: values.layout ? true : values['no-layout'] ? false : undefined }));
    return 0;
  }
  try {
    // A BPF object's BTF first gets what libbpf does to it between opening and loading.
    const elf = isElf(bytes) ? parseElf(bytes) : undefined;
    if ((elf && elfRole(elf) === 'bpf-object') || needsObjectFixups(btf)) {
      btf = Btf.parse(prepareObjectBtf(btf, elf), { base });
    }
    const sanitized = Btf.parse(sanitizeBtf(btf, { forKernel, endian }).bytes, { base });
    // The refusal check stays as a last guard: nothing the target cannot load is written.
    writeOutputFile(values.output as string, convertBtf(sanitized, { forKernel }));
  } catch (e) {
    if (e instanceof Error && e.name === 'BtfError') {
      const be = e as import('../errors.js').BtfError;
      if (be.file === undefined) throw be.inFile(input);
    }
    throw e;
  }
  return 0;
}
