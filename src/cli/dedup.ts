import { dedup as dedupBtf, type DedupResult } from '../dedup/dedup.js';
import { parse, UsageError } from './args.js';
import { loadInput } from './inputs.js';
import { printError, writeOutputFile } from './output.js';

export function dedup(args: string[]): number {
  const { values, positionals } = parse(args, {
    base: { type: 'string' },
    output: { type: 'string', short: 'o' },
    map: { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError('dedup takes one input file');
  if (!values.output) throw new UsageError('dedup needs -o OUT');
  const file = positionals[0]!;
  const btf = loadInput(file, values.base as string | undefined);
  const r = dedupBtf(btf);
  writeOutputFile(values.output as string, r.bytes);
  if (values.map !== undefined) writeOutputFile(values.map as string, mapJson(r, btf.firstId));
  printError(`btfkit: ${r.inputTypes} types in, ${r.outputTypes} out\n`);
  return 0;
}

/** `{"firstId": F, "newIds": [...]}`: the new id of each input id from F on (ids below F are the base's and keep theirs). */
export function mapJson(r: DedupResult, firstId: number): Uint8Array {
  return new TextEncoder().encode(`{"firstId":${firstId},"newIds":[${r.map.subarray(firstId).join(',')}]}\n`);
}
