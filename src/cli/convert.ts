import { convertBtf } from '../build/convert.js';
import { loadBtf } from '../btf/source.js';
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
  const endian = values.endian as string | undefined;
  if (endian !== undefined && endian !== 'little' && endian !== 'big') throw new UsageError(`--endian takes little or big, not '${endian}'`);
  if (values.layout && values['no-layout']) throw new UsageError('--layout and --no-layout exclude each other');
  const forKernel = kernelVersionFlag('for-kernel', values['for-kernel'] as string | undefined);
  const input = positionals[0]!;
  const bytes = readInput(input);
  const basePath = (values.base as string | undefined) ?? defaultBasePath(input);
  if (basePath === undefined && looksSplit(bytes, input)) throw baseNeeded(input);
  const btf = loadBtf(bytes, { base: basePath === undefined ? undefined : loadBtfFile(basePath), file: input });
  const out = convertBtf(btf, {
    endian: endian as 'little' | 'big' | undefined,
    layout: values.layout ? true : values['no-layout'] ? false : undefined,
    forKernel,
  });
  writeOutputFile(values.output as string, out);
  return 0;
}
