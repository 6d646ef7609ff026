import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The floors of src/ (ARCHITECTURE.md: one direction of flow, each layer knowing only the ones below it).
 * A file may import from its own top-level directory and from any directory on a lower floor, never from
 * its own floor's neighbours or above. Adding a directory means placing it here.
 */
const FLOORS: readonly (readonly string[])[] = [
  ['errors.ts'],
  ['util'],
  ['io', 'tf', 'circuit'], // io: atomic writes, safetensors, the packed quantized codec (io/quant)
  ['nn', 'interop', 'sim', 'data'],
  ['qasm', 'models'],
  ['peft', 'expressivity', 'train'], // train: the training engine, its tasks and checkpoints, pretraining
  ['quant', 'plot', 'hardware'], // quant: adapter directories quantized; plot: charts of expressivity sweeps;
  // hardware: measurement plans, shot simulation and reconstruction of quantum adapters
  ['experiments'], // fine-tuning, experiments, quantization sweeps scored on a task
  ['cli', 'index.ts'], // front ends over the library
];

const SRC = path.resolve(import.meta.dirname, '../../src');
const floorOf = new Map(FLOORS.flatMap((names, i) => names.map((n) => [n, i] as const)));

/** The top-level entry (directory, or file directly in src/) that `file` belongs to. */
function topOf(file: string): string {
  return path.relative(SRC, file).split(path.sep)[0]!;
}

/** Relative module specifiers of a file: static imports and re-exports, `import type`, dynamic import(). */
function importsOf(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)'(\.{1,2}\/[^']+)'/gm))
    out.push(m[1]!);
  return out;
}

const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' })
  .filter((f) => /\.(ts|mts|mjs)$/.test(f))
  .map((f) => path.join(SRC, f));

describe('src/ imports run down the floors only', () => {
  it('every top-level entry of src/ has a floor', () => {
    const tops = [...new Set(files.map(topOf))].sort();
    expect(tops.filter((t) => !floorOf.has(t))).toEqual([]);
  });

  it('the scan sees the imports (a known downward import is found)', () => {
    const serialize = files.find((f) => f.endsWith(path.join('peft', 'serialize.ts')))!;
    expect(importsOf(readFileSync(serialize, 'utf8'))).toContain('../io/quant/format.ts');
  });

  it('no import goes sideways or up', () => {
    const bad: string[] = [];
    for (const file of files) {
      const from = topOf(file);
      for (const spec of importsOf(readFileSync(file, 'utf8'))) {
        const to = topOf(path.resolve(path.dirname(file), spec));
        if (to === from) continue;
        const [a, b] = [floorOf.get(from), floorOf.get(to)];
        if (a === undefined || b === undefined || b >= a)
          bad.push(`${path.relative(SRC, file)} (floor ${a}) imports ${spec} (${to}, floor ${b})`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('only src/tf/ imports @tensorflow/tfjs itself; everyone else takes `tf` from tf/backend.ts', () => {
    const direct = files
      .filter((f) => topOf(f) !== 'tf')
      .filter((f) => /from\s*'@tensorflow\/tfjs'/.test(readFileSync(f, 'utf8')))
      .map((f) => path.relative(SRC, f));
    expect(direct).toEqual([]);
  });
});
