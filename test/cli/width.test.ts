/**
 * `qpeft unitary/qasm --width D` (any width as one circuit) and `qpeft params --model`: the printed factor
 * equals the simulation of the printed program on the printed rows; the tables equal the closed forms
 * worked out by hand here.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseQasm } from '../../src/qasm/index.ts';
import { subspaceColumns } from '../../src/sim/simulate.ts';
import { cli } from '../qasm/helpers.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'qpeft-width-'));

describe('qpeft unitary / qasm --width', () => {
  for (const [width, form, k] of [
    ['768', 'auto', '3'],
    ['12', 'direct-sum', '12'],
    ['10', 'mixed-radix', '4'],
  ] as const) {
    it(`the ${width}-wide ${form} factor printed by unitary is what the qasm program simulates to`, async () => {
      const u = await cli(
        'unitary',
        '--width',
        width,
        '--layers',
        '2',
        '--form',
        form,
        '--seed',
        '3',
        '--columns',
        k,
        '--json',
      );
      expect(u.code).toBe(0);
      const r = JSON.parse(u.out);
      expect(r.matrix.length).toBe(Number(width));
      expect(r.matrix[0].length).toBe(Number(k));
      expect(r.rowBasis.length).toBe(Number(width));
      expect(r.qubits).toBe(Math.ceil(Math.log2(Number(width))));
      expect(r.angles.length).toBe(r.parameters);
      expect(r.orthogonalityError).toBeLessThan(1e-12);
      if (width === '768') expect([r.form, r.parameters]).toEqual(['mixed-radix', 44]);
      for (const version of ['2', '3']) {
        const q = await cli(
          'qasm',
          '--width',
          width,
          '--layers',
          '2',
          '--form',
          form,
          '--seed',
          '3',
          '--qasm-version',
          version,
        );
        expect(q.code).toBe(0);
        const c = parseQasm(q.out);
        const p = subspaceColumns(c, undefined, Int32Array.from(r.rowBasis), Number(k));
        let diff = 0;
        for (let i = 0; i < p.rows; i++)
          for (let j = 0; j < p.cols; j++)
            diff = Math.max(diff, Math.abs(p.data[i * p.cols + j]! - r.matrix[i][j]));
        expect(diff).toBeLessThan(1e-12);
      }
    });
  }

  it('takes --angles for the factor’s θ and refuses bad combinations', async () => {
    const file = path.join(tmp, 'angles.json');
    writeFileSync(file, JSON.stringify(Array.from({ length: 9 }, (_, i) => 0.1 * i)));
    const ok = await cli('unitary', '--width', '6', '--layers', '2', '--angles', file, '--json');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out).angles).toEqual(Array.from({ length: 9 }, (_, i) => 0.1 * i));
    const bad = [
      [['unitary', '--width', '6', '--qubits', '3', '--layers', '1'], /either --qubits N .* or --width D/],
      [
        ['unitary', '--width', '6', '--layers', '1', '--form', 'qudit'],
        /--form must be one of auto, mixed-radix, direct-sum, got "qudit"/,
      ],
      [['unitary', '--width', '1', '--layers', '1'], /--width must be an integer in 2\.\./],
      [
        ['unitary', '--width', '6', '--layers', '2', '--columns', '7'],
        /--columns must be an integer in 1\.\.6/,
      ],
      [['unitary', '--width', '6', '--layers', '1', '--angles', file], /needs 6 angles/],
    ] as const;
    for (const [argv, re] of bad) {
      const r = await cli(...argv);
      expect(r.code, argv.join(' ')).not.toBe(0);
      expect(r.err).toMatch(re);
    }
  });
});

describe('qpeft params', () => {
  // two-design on n qubits: n + 2L(n−1); mixed radix d = m·2^a: a + (m−1) + L(2a−2+m)
  const td = (n: number, L: number) => n + 2 * L * (n - 1);
  const mr = (m: number, a: number, L: number) => a + (m - 1) + L * (2 * a - 2 + m);

  it('DeBERTaV3-base: all six projections of 12 blocks, K = 1', async () => {
    const r = await cli('params', '--model', 'deberta-v3-base', '--json');
    expect(r.code).toBe(0);
    const t = JSON.parse(r.out);
    const col = (key: string) => t.columns.findIndex((c: { key: string }) => c.key === key);
    const total = t.rows.at(-1).counts;
    for (const L of [1, 2, 4]) {
      const f768 = mr(3, 8, L);
      const f3072 = mr(3, 10, L);
      expect(total[col(`qpeft-mr-L${L}`)]).toBe(12 * (4 * (2 * f768 + 1) + 2 * (f768 + f3072 + 1)));
      // direct sums: 768 = 512 + 256, 3072 = 2048 + 1024
      const d768 = 2 * td(9, L) + 1 + td(8, L);
      const d3072 = 2 * td(11, L) + 1 + td(10, L);
      expect(total[col(`qpeft-ds-L${L}`)]).toBe(12 * (4 * (2 * d768 + 1) + 2 * (d768 + d3072 + 1)));
    }
    expect(total[col('qpeft-mr-L1')]).toBe(4104);
    expect(total[col('lora-8')]).toBe(12 * 8 * (4 * 1536 + 2 * 3840));
    expect(total[col('lie')]).toBe(12 * (4 * (2 * 767 + 1) + 2 * (767 + 3071 + 1)));
    const md = await cli('params', '--model', 'deberta-v3-base', '--markdown');
    expect(md.out).toMatch(/\| whole model \(12 blocks\) \| 4104 \|/);
    expect(md.out).toMatch(/Paper \(GLUE .*Quantum-PEFT 13\.0k/);
  });

  it('LLaMA-2-7B at L = 2 and K = 4; unknown models are refused', async () => {
    const r = await cli('params', '--model', 'llama2-7b', '--layers', '2', '--rank', '4', '--json');
    const t = JSON.parse(r.out);
    expect(t.columns.map((c: { key: string }) => c.key)).toEqual([
      'qpeft-mr-L2',
      'qpeft-ds-L2',
      'lie',
      'lora-1',
      'lora-8',
    ]);
    const f4096 = td(12, 2);
    const f11008 = mr(43, 8, 2);
    expect(t.rows.at(-1).counts[0]).toBe(32 * (4 * (2 * f4096 + 4) + 3 * (f4096 + f11008 + 4)));
    const bad = await cli('params', '--model', 'bert');
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(
      /unknown model "bert"; expected one of vit-b16, deberta-v3-base, gpt2, gpt2-medium, llama2-7b/,
    );
  });
});
