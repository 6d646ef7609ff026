import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseIntList } from '../../src/cli/commands/expressivity.ts';
import { main } from '../../src/cli/main.ts';

async function run(argv: string[]) {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) });
  return { code, out, err };
}

const SMALL = ['--qubits', '2..3', '--layers', '0..1', '--samples', '60', '--workers', '0'];

describe('qpeft expressivity', () => {
  it('--json prints one row per (qubits, layers) with the required fields', async () => {
    const { code, out } = await run(['expressivity', ...SMALL, '--json', '--columns', '2']);
    expect(code).toBe(0);
    const rows = JSON.parse(out) as Record<string, unknown>[];
    expect(rows.map((r) => [r.qubits, r.layers])).toEqual([
      [2, 0],
      [2, 1],
      [3, 0],
      [3, 1],
    ]);
    for (const r of rows) {
      for (const k of [
        'qubits',
        'layers',
        'params',
        'expressibility',
        'entanglement',
        'effectiveDimension',
        'manifoldDimension',
        'gradVariance',
      ]) {
        expect(r).toHaveProperty(k);
      }
      expect(r.columns).toBe(2);
    }
    expect(rows[0]!.entanglement).toBe(0); // L = 0
  });

  it('--csv and the default table', async () => {
    const csv = await run(['expressivity', ...SMALL, '--csv']);
    expect(csv.out.split('\n')[0]).toMatch(/^circuit,qubits,layers,columns,params/);
    expect(csv.out.trim().split('\n').length).toBe(5);
    const text = await run(['expressivity', ...SMALL]);
    expect(text.out).toMatch(/expressibility/);
    expect(text.err).toMatch(/4\/4/); // the progress bar
  });

  it('reports bad input in one line (exit 2)', async () => {
    expect((await run(['expressivity', '--qubits', '5..2', '--layers', '0'])).err).toMatch(/empty/);
    expect((await run(['expressivity', '--qubits', 'x', '--layers', '0'])).code).toBe(2);
    expect((await run(['expressivity', '--layers', '0'])).err).toMatch(/--qubits/);
    expect((await run(['expressivity', ...SMALL, '--json', '--csv'])).err).toMatch(/at most one/);
    expect(
      (await run(['expressivity', '--qubits', '2', '--layers', '0', '--columns', '5', '--workers', '0']))
        .code,
    ).toBe(2);
    expect((await run(['expressivity', '--qasm', 'x.qasm', '--qubits', '2'])).err).toMatch(/do not combine/);
    const qasm = await run(['expressivity', '--qasm', '/nonexistent/file.qasm']);
    expect(qasm.code).toBe(2);
    expect(qasm.err).toMatch(/cannot read/);
  });

  it('--qasm FILE measures a circuit given in OpenQASM 3 with input angles (same rank as the template)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qpeft-qasm-'));
    try {
      const file = join(dir, 'two-design-3q-1l.qasm');
      const lines = ['OPENQASM 3.0;', 'include "stdgates.inc";', 'qubit[3] q;'];
      for (let i = 0; i < 7; i++) lines.push(`input float[64] theta${i};`);
      lines.push('ry(theta0) q[0];', 'ry(theta1) q[1];', 'ry(theta2) q[2];');
      lines.push('cz q[0], q[1];', 'ry(theta3) q[0];', 'ry(theta4) q[1];');
      lines.push('cz q[1], q[2];', 'ry(theta5) q[1];', 'ry(theta6) q[2];');
      writeFileSync(file, `${lines.join('\n')}\n`);
      const { code, out } = await run([
        'expressivity',
        '--qasm',
        file,
        '--samples',
        '40',
        '--workers',
        '0',
        '--json',
      ]);
      expect(code).toBe(0);
      const [row] = JSON.parse(out) as Record<string, unknown>[];
      const args = ['--qubits', '3', '--layers', '1', '--samples', '40', '--workers', '0', '--json'];
      const [trow] = JSON.parse((await run(['expressivity', ...args])).out) as Record<string, unknown>[];
      expect(row).toMatchObject({ circuit: 'two-design-3q-1l.qasm', qubits: 3, layers: null, params: 7 });
      expect(row!.effectiveDimension).toBe(trow!.effectiveDimension);
      expect(row!.manifoldDimension).toBe(7);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('parses ranges and lists', () => {
    expect(parseIntList('qubits', '2..4,8', 1, 20)).toEqual([2, 3, 4, 8]);
    expect(parseIntList('layers', '3', 0, 9)).toEqual([3]);
    expect(() => parseIntList('qubits', '0..3', 1, 20)).toThrow(/1\.\.20/);
  });
});
