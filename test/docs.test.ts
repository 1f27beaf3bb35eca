/**
 * The docs quote only what the bench measured: README.md and docs/BENCHMARKS.md carry the
 * summary block `npm run bench` wrote into bench/results.md, unchanged, and no other
 * benchmark ratio.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const BEGIN = '<!-- bench-summary:begin';
const END = '<!-- bench-summary:end -->';

function summaryOf(text: string, name: string): string {
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  assert.ok(a >= 0 && b > a, `${name} has a bench summary block`);
  assert.equal(text.indexOf(BEGIN, a + 1), -1, `${name} has one bench summary block`);
  return text.slice(a, b + END.length);
}

/** Lines with a ratio (`1.23×`) outside the summary block: figures nobody re-measures. */
function ratiosOutsideSummary(text: string): string[] {
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  const outside = text.slice(0, a) + text.slice(b + END.length);
  return outside.split('\n').filter((l) => /\d\.\d+×/.test(l));
}

test('README and BENCHMARKS show the summary of the last bench run, as it wrote it', () => {
  const results = readFileSync('bench/results.md', 'utf8');
  const expected = summaryOf(results, 'bench/results.md');
  assert.match(expected, /- machine: .+ cores/, 'the summary names the machine');
  assert.match(expected, /\[\d+\.\d+–\d+\.\d+\]/, 'the summary gives the spread of the ratios');
  for (const doc of ['README.md', 'docs/BENCHMARKS.md']) {
    const text = readFileSync(doc, 'utf8');
    assert.equal(summaryOf(text, doc), expected, `${doc}'s summary differs from bench/results.md: run npm run bench, do not edit it by hand`);
  }
});

test('no doc quotes a benchmark ratio outside a block the bench writes', () => {
  for (const doc of ['README.md', 'docs/C-HEADER.md', 'docs/ARCHITECTURE.md', 'docs/MODULES.md']) {
    const text = readFileSync(doc, 'utf8');
    const lines = text.includes(BEGIN) ? ratiosOutsideSummary(text) : text.split('\n').filter((l) => /\d\.\d+×/.test(l));
    assert.deepEqual(lines, [], `${doc} quotes ratios the bench does not write`);
  }
});
