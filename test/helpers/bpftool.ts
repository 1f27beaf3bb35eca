import { spawnSync } from 'node:child_process';

/** The id bpftool's raw dump gives the type `KIND 'name'` of `file` (split on `base` when given), or undefined. */
export function bpftoolId(file: string, name: string, kind: string, base?: string): number | undefined {
  const args = base ? ['btf', '--base-btf', base, 'dump', 'file', file] : ['btf', 'dump', 'file', file];
  const out = spawnSync('bpftool', args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (out.status !== 0) throw new Error(`bpftool ${args.join(' ')}: ${out.stderr}`);
  const m = out.stdout.match(new RegExp(`^\\[(\\d+)\\] ${kind} '${name}'`, 'm'));
  return m ? Number(m[1]) : undefined;
}
