#!/usr/bin/env node
import { isBtfError } from '../errors.js';
import { CommandError, UsageError } from './args.js';
import { run } from './commands.js';
import { printError, OutputClosed } from './output.js';

async function main(): Promise<number> {
  try {
    return await run(process.argv.slice(2));
  } catch (e) {
    if (e instanceof OutputClosed) return 0; // `| head`: the reader has all it wanted
    if (e instanceof UsageError) {
      printError(`btfkit: ${e.message}\nTry 'btfkit ${e.command === undefined ? 'help' : `${e.command} --help`}'.\n`);
      return 2;
    }
    if (isBtfError(e) || e instanceof CommandError) {
      printError(`btfkit: error: ${e.message}\n`);
      return 1;
    }
    const msg = e instanceof Error ? e.message : String(e);
    printError(`btfkit: internal error: ${msg}\n`);
    return 1;
  }
}

// No top-level await: the shipped CLI is this file bundled as CommonJS (tools/bundle-cli.mjs).
void main().then((code) => {
  process.exitCode = code;
});
