#!/usr/bin/env node
import { BtfError } from '../errors.js';
import { UsageError } from './args.js';
import { run } from './commands.js';

async function main(): Promise<number> {
  try {
    return await run(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`btfkit: ${e.message}\nTry 'btfkit help'.\n`);
      return 2;
    }
    if (e instanceof BtfError) {
      process.stderr.write(`btfkit: error: ${e.message}\n`);
      return 1;
    }
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`btfkit: internal error: ${msg}\n`);
    return 1;
  }
}

// No top-level await: the shipped CLI is this file bundled as CommonJS (tools/bundle-cli.mjs).
void main().then((code) => {
  process.exitCode = code;
});
