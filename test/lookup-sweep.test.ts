/**
 * Name lookups over every module of every fetched Debian build (tools/fetch-debian-kernel.sh),
 * each module read split on its own build's vmlinux, laid out as /sys/kernel/btf would be:
 * every named type a module defines must be found by its name (and name and kind) in the module,
 * and by one search over vmlinux plus all modules, with the module as its origin. The types
 * that name themselves with a string of the base (pahole reuses vmlinux's offset for a name
 * vmlinux has) are counted: they were invisible to lookups before the name index followed
 * offsets into the base.
 *
 * Without data this skips loudly; with BTFKIT_REQUIRE_DATA=1 it fails instead.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Btf } from '../src/btf/btf.js';
import { Kind } from '../src/format/kinds.js';
import { TypeSet } from '../src/btf/typeset.js';
import { moduleNameOf } from '../src/elf/compress.js';
import { loadModuleBtf } from '../src/split/load.js';
import { readInput } from '../src/node/files.js';
import { fetchedBuilds, findModules } from './helpers/data.js';
import { DATA_DIR } from './helpers/paths.js';
import { loudSkip } from './helpers/skip.js';

const REQUIRE_DATA = process.env.BTFKIT_REQUIRE_DATA === '1';

test('every named module type of every fetched build is found by name; base-named ones across vmlinux + modules too', (t) => {
  const builds = fetchedBuilds();
  if (builds.length === 0) {
    const why = `no fetched kernel build under ${DATA_DIR}; run tools/fetch-debian-kernel.sh`;
    if (REQUIRE_DATA) assert.fail(why);
    return loudSkip(t, why);
  }
  for (const dir of builds) {
    const base = Btf.parse(readInput(join(dir, 'vmlinux.btf')));
    const files = findModules(join(dir, 'modules'));
    const modules = files.map((f) => [moduleNameOf(f), loadModuleBtf(readInput(f), base, f)] as [string, Btf]);
    const set = new TypeSet(base, modules);
    let named = 0;
    let baseNamed = 0;
    const modulesWithBaseNamed = new Set<string>();
    let baseNamedDefinitionsOfBaseFwds = 0;
    const missing: string[] = [];
    for (const [name, btf] of modules) {
      for (let id = btf.firstId; id < btf.endId; id++) {
        const n = btf.name(id);
        if (n === '') continue;
        named++;
        const kind = btf.kind(id);
        if (btf.nameOffset(id) < btf.firstStringOffset) {
          baseNamed++;
          modulesWithBaseNamed.add(name);
          if (base.find(n).some((b) => base.kind(b) === Kind.Fwd) && (kind === Kind.Struct || kind === Kind.Union)) baseNamedDefinitionsOfBaseFwds++;
        }
        let ok = btf.find(n).includes(id) && btf.find(n, kind).includes(id);
        // One search over every module costs a lookup per module: done for the types this is about.
        if (ok && btf.nameOffset(id) < btf.firstStringOffset) ok = set.find(n, kind).some((h) => h.module === name && h.id === id);
        if (!ok && missing.length < 20) missing.push(`${name} [${id}] '${n}'`);
      }
    }
    t.diagnostic(`${dir}: ${modules.length} modules, ${named} named types; ${baseNamed} in ${modulesWithBaseNamed.size} modules named with base strings ` +
      `(${baseNamedDefinitionsOfBaseFwds} define structs/unions vmlinux only forward-declares); missed: ${missing.length}`);
    assert.ok(modules.length > 100, `${dir}: ${modules.length} modules`);
    assert.ok(baseNamed > 0, `${dir}: no module type named with a base string: the case under test is missing`);
    assert.deepEqual(missing, [], `${dir}: types not found by name`);
  }
});
