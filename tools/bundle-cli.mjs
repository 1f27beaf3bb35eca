// Bundles the compiled CLI (dist/src/cli/main.js and everything it imports) into one CommonJS
// file, dist/btfkit.cjs, the `btfkit` the package ships. One file spares Node resolving,
// reading and linking some forty ES modules at every start, and CommonJS loads faster than an
// ES module bundle: about 40 ms of a command's wall time on a 2-core machine (docs/BENCHMARKS.md).
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

await build({
  entryPoints: [`${root}dist/src/cli/main.js`],
  outfile: `${root}dist/btfkit.cjs`,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // src/node/compressed.ts builds a require from import.meta.url, which CommonJS lacks.
  define: { 'import.meta.url': '__btfkit_import_meta_url' },
  banner: { js: "'use strict';\nconst __btfkit_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
  sourcemap: 'linked',
  logLevel: 'warning',
});
