/** The CLI: qpeft qasm, qpeft qasm import, qpeft unitary --qasm, and the demo's OpenQASM. */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './helpers.ts';

const circuits = path.join(path.dirname(new URL(import.meta.url).pathname), '../../circuits');
const golden2 = path.join(circuits, 'two-design-n4-l2.qasm2');
const adapter = path.join(circuits, 'adapters/two-design-4q-2l.qasm');

describe('qpeft qasm', () => {
  it('prints the golden OpenQASM 2 program (seed 0 by default, same angles as qpeft unitary)', async () => {
    const r = await cli('qasm', '--qubits', '4', '--layers', '2', '--qasm-version', '2');
    expect(r.code).toBe(0);
    expect(r.out).toBe(readFileSync(golden2, 'utf8'));
    const u = JSON.parse((await cli('unitary', '--qubits', '4', '--layers', '2', '--json')).out);
    expect(r.out).toContain(`ry(${u.angles[0]}) q[0];`);
  });
  it('--unbound, --measure, --basis, --stats (stats on stderr), --out (atomic: no temp file left)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'qpeft-cli-'));
    const file = path.join(dir, 'p.qasm');
    const r = await cli(
      'qasm',
      '--qubits',
      '3',
      '--layers',
      '1',
      '--unbound',
      '--measure',
      '--basis',
      'ibm',
      '--stats',
      '--out',
      file,
    );
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^wrote .*p\.qasm/);
    expect(r.out).toMatch(/basis ibm: \d+ gates .*2 cz.*2 two-qubit/);
    expect(r.out).toMatch(/no SWAP needed/);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('input float[64] theta0;');
    expect(text).toContain('c = measure q;');
    expect(readdirSync(dir)).toEqual(['p.qasm']);
    const s = await cli('qasm', '--qubits', '3', '--layers', '1', '--stats');
    expect(s.out.startsWith('OPENQASM 3.0;')).toBe(true);
    expect(s.err).toMatch(/basis native: 9 gates \(7 ry, 2 cz\), 2 two-qubit, depth 5/);
  });
  it('--to qiskit carries the seed angles', async () => {
    const u = JSON.parse(
      (await cli('unitary', '--qubits', '2', '--layers', '1', '--seed', '5', '--json')).out,
    );
    const r = await cli('qasm', '--qubits', '2', '--layers', '1', '--seed', '5', '--to', 'qiskit');
    expect(r.code).toBe(0);
    for (const a of u.angles) expect(r.out).toContain(String(a));
  });
  it('bad flags are one-line errors with exit 2', async () => {
    expect((await cli('qasm', '--qubits', '3', '--layers', '1', '--basis', 'clifford')).err).toMatch(
      /--basis must be one of native, ibm, u-cx/,
    );
    expect(
      (await cli('qasm', '--qubits', '3', '--layers', '1', '--qasm-version', '2', '--unbound')).code,
    ).toBe(2);
    expect((await cli('qasm', '--qubits', '3', '--layers', '1', '--coupling', '0-2,1-2')).err).toMatch(
      /does not fit the coupling map/,
    );
    const routed = await cli('qasm', '--qubits', '3', '--layers', '1', '--coupling', '0-2,1-2', '--route');
    expect(routed.out).toMatch(
      /routed with 2 inserted SWAP\(s\); final layout \(logical -> physical\): 1 2 0/,
    );
  });
});

describe('qpeft qasm import and unitary --qasm', () => {
  it('import prints a summary', async () => {
    const r = await cli('qasm', 'import', adapter);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/OpenQASM 3, 4 qubits \(q\[4\]\)/);
    expect(r.out).toMatch(/inputs: theta0 \(float\[64\]\), theta1/);
    expect(r.out).toMatch(/22 gates \(16 ry, 6 cz\), 6 two-qubit, depth 9/);
    expect(r.out).toMatch(/real: yes/);
  });
  it('import --json equals unitary --qasm --json, and its matrix equals the template unitary', async () => {
    const a = await cli('qasm', 'import', adapter, '--json', '--seed', '0');
    const b = await cli('unitary', '--qasm', adapter, '--seed', '0', '--json');
    expect(a.out).toBe(b.out);
    const got = JSON.parse(a.out);
    const want = JSON.parse((await cli('unitary', '--qubits', '4', '--layers', '2', '--json')).out);
    expect(Object.keys(got)).toEqual(expect.arrayContaining(Object.keys(want)));
    expect(got.template).toBeNull();
    expect(got.angles).toEqual(want.angles);
    for (const [i, row] of (got.matrix as number[][]).entries()) {
      for (const [j, v] of row.entries()) expect(Math.abs(v - want.matrix[i][j])).toBeLessThan(1e-12);
    }
  });
  it('unbound inputs need --seed or --angles', async () => {
    const r = await cli('unitary', '--qasm', adapter);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /has 16 unbound input\(s\) \(theta0, theta1, theta2, …\): give --seed S or --angles FILE/,
    );
  });
  it('a parse error names the file, line and column', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'qpeft-cli-'));
    const file = path.join(dir, 'bad.qasm');
    (await import('node:fs')).writeFileSync(file, 'OPENQASM 3.0;\nqubit q;\nry(0.1 q;\n');
    const r = await cli('qasm', 'import', file);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /^qpeft qasm: line 3, column 8: expected '\)' after the arguments of 'ry', got 'q' \(in .*bad\.qasm\)/,
    );
  });
  it('a complex circuit (rz, s) simulates in complex float64 with imag and globalPhase', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'qpeft-cli-'));
    const file = path.join(dir, 'c.qasm');
    (await import('node:fs')).writeFileSync(
      file,
      'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\ns q[0];\n',
    );
    const j = JSON.parse((await cli('unitary', '--qasm', file, '--json')).out);
    expect(j.matrix[1][1]).toBeCloseTo(0, 15);
    expect(j.imag[1][1]).toBeCloseTo(1, 15);
    expect(j.matrix[0][0]).toBeCloseTo(1, 15);
    expect(j.globalPhase).toBeCloseTo(Math.PI / 4, 15);
  });
});

describe('qpeft demo shows P as OpenQASM 3', () => {
  it('text and JSON', async () => {
    const r = await cli('demo', '--dim', '16', '--rank', '2', '--layers', '1');
    expect(r.out).toMatch(
      /P as OpenQASM 3 \(angles bound, seed 0\): 13 gates \(10 ry, 3 cz\), 3 two-qubit, depth 5/,
    );
    expect(r.out).toContain('  OPENQASM 3.0;');
    const j = JSON.parse((await cli('demo', '--dim', '16', '--rank', '2', '--layers', '1', '--json')).out);
    const q = await cli('qasm', '--qubits', '4', '--layers', '1', '--seed', '0');
    expect(j.pQasm).toBe(q.out);
    expect(j.pQasmStats).toMatchObject({ total: 13, twoQubit: 3, depth: 5 });
  });
});

describe('qpeft qasm --physical', () => {
  it('writes $n operands for a layout, and qasm import --json says which physical qubit each wire is', async () => {
    const w = await cli('qasm', '--qubits', '2', '--layers', '1', '--physical', '--layout', '3,1');
    expect(w.code).toBe(0);
    expect(w.out).toMatch(/\$3/);
    const dir = mkdtempSync(path.join(tmpdir(), 'qpeft-phys-'));
    const file = path.join(dir, 'p.qasm');
    writeFileSync(file, w.out);
    const r = await cli('qasm', 'import', file, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).physicalQubits).toEqual([0, 1, 2, 3]);
    const bad = await cli('qasm', '--qubits', '2', '--layers', '1', '--layout', '3,1');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/add --physical/);
  });
});
