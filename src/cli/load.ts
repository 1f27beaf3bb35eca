import { kernelVariables } from '../load/vars.js';
import { parse } from './args.js';
import { typeSetOf } from './inputs.js';
import { print, printError, printing } from './output.js';

/** `btfkit vars`: every kernel variable (VAR) with its section, offset, size and C declaration. */
export function vars(args: string[]): number {
  const { values, positionals } = parse(args, {
    base: { type: 'string' },
    json: { type: 'boolean', default: false },
    name: { type: 'string' },
  });
  const { set, searched } = typeSetOf(positionals, values.base as string | undefined);
  let list = kernelVariables(set);
  const name = values.name as string | undefined;
  if (name !== undefined) list = list.filter((v) => v.name === name);
  if (list.length === 0) printError(`btfkit: no variable${name === undefined ? 's' : ` named '${name}'`} in ${searched}\n`);
  return printing(list.length ? 0 : 1, () => {
    if (values.json) {
      print(JSON.stringify(list) + '\n');
      return;
    }
    for (const v of list) {
      const where = v.section === null ? '-' : `${v.section}+0x${v.offset!.toString(16)}`;
      print(`${v.btf}\t[${v.id}] ${where}\t${v.size ?? '-'}\t${v.linkage}\t${v.declaration};\n`);
    }
  });
}
