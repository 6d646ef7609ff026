/** Lowering of gates quantum-circuit lacks, against closed-form matrices; registers, broadcast, inputs. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { param } from '../../src/circuit/index.ts';
import { parseQasm, parseQasmDetailed } from '../../src/qasm/index.ts';
import { simulateComplex } from '../../src/sim/complex.ts';
import { maxDiff } from './helpers.ts';

type C = [number, number];
const cexp = (t: number): C => [Math.cos(t), Math.sin(t)];

/** Full little-endian matrix of a diagonal or 1-qubit closed form on `n` qubits. */
function dense(n: number, entry: (i: number, j: number) => C) {
  const N = 2 ** n;
  const re = new Float64Array(N * N);
  const im = new Float64Array(N * N);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < N; j++) {
      const [a, b] = entry(i, j);
      re[i * N + j] = a;
      im[i * N + j] = b;
    }
  }
  return { rows: N, cols: N, re, im };
}
const diag = (n: number, d: (i: number) => C) => dense(n, (i, j) => (i === j ? d(i) : [0, 0]));
const bit = (i: number, w: number) => (i >> w) & 1;

describe('gates outside quantum-circuit, against closed forms (global phase included)', () => {
  const prog = (body: string) => `OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\n${body}\n`;
  // rzz, rxx, sxdg and u are qelib1.inc gates (not in stdgates.inc).
  const prog2 = (body: string) => `OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\n${body}\n`;
  const l = 0.7;
  it('p(λ) and phase(λ) = diag(1, e^{iλ})', () => {
    const want = diag(2, (i) => (bit(i, 1) ? cexp(l) : [1, 0]));
    expect(maxDiff(simulateComplex(parseQasm(prog(`p(${l}) q[1];`))), want)).toBeLessThan(1e-14);
    expect(maxDiff(simulateComplex(parseQasm(prog(`phase(${l}) q[1];`))), want)).toBeLessThan(1e-14);
  });
  it('cp(λ) and cphase(λ) = diag(1, 1, 1, e^{iλ})', () => {
    const want = diag(2, (i) => (i === 3 ? cexp(l) : [1, 0]));
    expect(maxDiff(simulateComplex(parseQasm(prog(`cp(${l}) q[0], q[1];`))), want)).toBeLessThan(1e-14);
    expect(maxDiff(simulateComplex(parseQasm(prog(`cphase(${l}) q[1], q[0];`))), want)).toBeLessThan(1e-14);
  });
  it('rzz(θ) = diag(e^{-iθ/2} when the bits agree, e^{iθ/2} otherwise)', () => {
    const want = diag(2, (i) => cexp(bit(i, 0) === bit(i, 1) ? -l / 2 : l / 2));
    expect(maxDiff(simulateComplex(parseQasm(prog2(`rzz(${l}) q[0], q[1];`))), want)).toBeLessThan(1e-14);
  });
  it('rxx(θ) = cos(θ/2) I − i sin(θ/2) X⊗X', () => {
    const want = dense(2, (i, j) =>
      i === j ? [Math.cos(l / 2), 0] : (i ^ j) === 3 ? [0, -Math.sin(l / 2)] : [0, 0],
    );
    expect(maxDiff(simulateComplex(parseQasm(prog2(`rxx(${l}) q[0], q[1];`))), want)).toBeLessThan(1e-14);
  });
  it('sxdg = (1/2)[[1−i, 1+i], [1+i, 1−i]], and sx·sxdg = I', () => {
    const want = dense(2, (i, j) =>
      bit(i, 1) !== bit(j, 1) ? [0, 0] : bit(i, 0) === bit(j, 0) ? [0.5, -0.5] : [0.5, 0.5],
    );
    expect(maxDiff(simulateComplex(parseQasm(prog2('sxdg q[0];'))), want)).toBeLessThan(1e-14);
    expect(
      maxDiff(
        simulateComplex(parseQasm(prog2('sx q[1];\nsxdg q[1];'))),
        diag(2, () => [1, 0]),
      ),
    ).toBeLessThan(1e-14);
  });
  it('U(θ,φ,λ) and u(θ,φ,λ) = [[cos θ/2, −e^{iλ} sin θ/2], [e^{iφ} sin θ/2, e^{i(φ+λ)} cos θ/2]]', () => {
    const [t, p, m] = [1.1, -0.4, 2.3];
    const c = Math.cos(t / 2);
    const s = Math.sin(t / 2);
    const u: C[][] = [
      [
        [c, 0],
        [-Math.cos(m) * s, -Math.sin(m) * s],
      ],
      [
        [Math.cos(p) * s, Math.sin(p) * s],
        [Math.cos(p + m) * c, Math.sin(p + m) * c],
      ],
    ];
    const want = dense(2, (i, j) => (bit(i, 1) !== bit(j, 1) ? [0, 0] : u[bit(i, 0)]![bit(j, 0)]!));
    expect(maxDiff(simulateComplex(parseQasm(prog(`U(${t}, ${p}, ${m}) q[0];`))), want)).toBeLessThan(1e-14);
    expect(maxDiff(simulateComplex(parseQasm(prog2(`u(${t}, ${p}, ${m}) q[0];`))), want)).toBeLessThan(1e-14);
  });
  it('gphase(γ) multiplies by e^{iγ}', () => {
    expect(
      maxDiff(
        simulateComplex(parseQasm(prog('gphase(0.25);'))),
        diag(2, () => cexp(0.25)),
      ),
    ).toBeLessThan(1e-14);
  });
});

describe('lowering', () => {
  it('flattens several registers in declaration order and broadcasts over registers', () => {
    const r = parseQasmDetailed(
      'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg a[2];\nqreg b[2];\ncreg c[2];\ncreg d[2];\ncx a, b;\nh b[1];\nmeasure a -> c;\nmeasure b[0] -> d[1];\n',
    );
    expect(r.circuit.qubits).toBe(4);
    expect(r.circuit.gates.map((g) => [g.name, ...g.wires])).toEqual([
      ['cx', 0, 2],
      ['cx', 1, 3],
      ['h', 3],
    ]);
    expect(r.qregs).toEqual([
      { name: 'a', size: 2, offset: 0 },
      { name: 'b', size: 2, offset: 2 },
    ]);
    expect(r.measurements).toEqual([
      { qubit: 0, bit: { register: 'c', index: 0 } },
      { qubit: 1, bit: { register: 'c', index: 1 } },
      { qubit: 2, bit: { register: 'd', index: 1 } },
    ]);
  });
  it('input float/angle become parameters in declaration order, affine uses kept symbolic', () => {
    const c = parseQasm(
      'OPENQASM 3.0;\ninclude "stdgates.inc";\ninput angle[32] b;\ninput float[64] a;\nqubit[2] q;\nry(2*a + pi/4) q[0];\nrx(-(b - 1)/2) q[1];\nry(a*3**2) q[1];\n',
    );
    expect(c.params).toEqual(['b', 'a']);
    expect(c.gates[0]).toMatchObject({ name: 'ry', angle: param('a', 2, Math.PI / 4) });
    expect(c.gates[1]).toMatchObject({ name: 'rx', angle: param('b', -0.5, 0.5) });
    expect(c.gates[2]).toMatchObject({ name: 'ry', angle: param('a', 9, 0) });
  });
  it('user gates expand with their parameters; u3(θ,0,0) and u3(π/2,0,π) lower to real gates (ry; ry·z)', () => {
    const c = parseQasm(
      'OPENQASM 3.0;\ninclude "stdgates.inc";\ninput float w;\nqubit[2] q;\ngate blk(a) x, y { cz x, y; u3(a, 0, 0) x; u3(pi/2, 0, pi) y; }\nblk(w/2) q[1], q[0];\n',
    );
    expect(c.gates.map((g) => g.name)).toEqual(['cz', 'ry', 'z', 'ry']);
    expect(c.gates[1]).toMatchObject({ wires: [1], angle: param('w', 0.5, 0) });
    // stdgates.inc: u3(θ,φ,λ) = gphase(−(φ+λ)/2)·U(θ,φ,λ), and U(π/2, 0, π) = H, so u3(π/2, 0, π) = e^{−iπ/2}·H.
    expect(c.globalPhase).toBeCloseTo(-Math.PI / 2, 14);
  });
  it('functions, π, τ, euler, unicode π and comments', () => {
    const c = parseQasm(
      '// header\nOPENQASM 3;\ninclude "stdgates.inc"; /* block\ncomment */ qubit q;\nry(sin(π/2) + cos(0) - sqrt(4) + ln(euler) + tau/τ) q;\n',
    );
    expect(c.gates[0]).toMatchObject({ angle: 2 });
  });
  it('reads a user include from includeDir', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'qpeft-inc-'));
    mkdirSync(path.join(dir, 'lib'));
    writeFileSync(path.join(dir, 'lib', 'my.inc'), 'gate pair(t) a, b { ry(t) a; cz a, b; }\n');
    const c = parseQasm(
      'OPENQASM 2.0;\ninclude "qelib1.inc";\ninclude "lib/my.inc";\nqreg q[2];\npair(0.5) q[0], q[1];\n',
      {
        includeDir: dir,
      },
    );
    expect(c.gates.map((g) => g.name)).toEqual(['ry', 'cz']);
  });
});
