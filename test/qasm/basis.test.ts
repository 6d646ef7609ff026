/** Target bases (ibm, u-cx) against native via the complex simulator; stats; connectivity and routing. */
import { describe, expect, it } from 'vitest';
import {
  alternatingRyCz,
  cx,
  cz,
  h,
  makeCircuit,
  param,
  rx,
  ry,
  rz,
  simplifiedTwoDesign,
  swap,
  x,
  z,
} from '../../src/circuit/index.ts';
import { InputError } from '../../src/errors.ts';
import {
  checkConnectivity,
  exportQasm,
  parseQasm,
  qasmStats,
  routeCircuit,
  translateGates,
} from '../../src/qasm/index.ts';
import { distanceUpToPhase, simulateComplex } from '../../src/sim/complex.ts';
import { uniformAngles } from '../../src/util/random.ts';

const mixed = makeCircuit({
  qubits: 3,
  gates: [
    ry(0, param('a', 2, 0.3)),
    rx(1, 0.7),
    rz(2, -1.1),
    h(0),
    x(1),
    z(2),
    cx(0, 1),
    cz(1, 2),
    swap(0, 2),
    cx(2, 1),
    ry(1, param('a', -1, 0)),
  ],
  params: ['a'],
});

describe('ibm (rz, sx, x, cz) and u-cx (u3/U, cx) equal native up to a global phase', () => {
  const circuits = [
    ['two-design n=4 L=2', simplifiedTwoDesign(4, 2)],
    ['alternating n=3 L=2', alternatingRyCz(3, 2)],
    ['every IR gate', mixed],
  ] as const;
  for (const [label, c] of circuits) {
    for (const basis of ['ibm', 'u-cx'] as const) {
      for (const version of [2, 3] as const) {
        it(`${label}, ${basis}, OpenQASM ${version}`, () => {
          const theta = uniformAngles(c.params.length, 2);
          const native = simulateComplex(c, theta);
          const text = exportQasm(c, { basis, version, bindings: theta });
          const names = new Set(
            parseQasm(text) && [...text.matchAll(/^([A-Za-z0-9_]+)[ (]/gm)].map((m) => m[1]),
          );
          for (const n of ['OPENQASM', 'include', 'qreg', 'qubit']) names.delete(n);
          const allowed = basis === 'ibm' ? ['rz', 'sx', 'x', 'cz'] : [version === 2 ? 'u3' : 'U', 'cx'];
          for (const n of names) expect(allowed).toContain(n);
          expect(distanceUpToPhase(native, simulateComplex(parseQasm(text)))).toBeLessThan(1e-12);
        });
      }
    }
  }
  it('unbound ibm export keeps the inputs and still matches for any θ', () => {
    const text = exportQasm(mixed, { basis: 'ibm', unbound: true });
    const back = parseQasm(text);
    expect(back.params).toEqual(['a']);
    for (const a of [-2, 0.1, 3])
      expect(distanceUpToPhase(simulateComplex(mixed, [a]), simulateComplex(back, [a]))).toBeLessThan(1e-12);
  });
});

describe('stats', () => {
  it('native counts of the two-design: n + 2L(n−1) ry, L(n−1) cz, depth 1 + 4L (n ≥ 3)', () => {
    const s = qasmStats(simplifiedTwoDesign(6, 3));
    expect(s.counts).toEqual({ ry: 6 + 2 * 3 * 5, cz: 3 * 5 });
    expect(s.twoQubit).toBe(15);
    expect(s.depth).toBe(1 + 4 * 3);
    expect(s.connectivity.fits).toBe(true);
    expect(s.connectivity.swaps).toBe(0);
    expect(s.connectivity.note).toMatch(/no SWAP/);
  });
  it('ibm: each cz stays one cz; each ry costs 2 sx; u-cx: each ry one u3, each cz 2 u3 + 1 cx', () => {
    const c = simplifiedTwoDesign(4, 1);
    const ibm = qasmStats(c, { basis: 'ibm' });
    expect(ibm.counts.cz).toBe(3);
    expect(ibm.counts.sx).toBe(2 * 10);
    expect(ibm.twoQubit).toBe(3);
    const u = qasmStats(c, { basis: 'u-cx', version: 2 });
    expect(u.counts).toEqual({ u3: 10 + 2 * 3, cx: 3 });
    expect(translateGates(c, 'u-cx', 3)[0]!.name).toBe('U');
  });
});

describe('connectivity', () => {
  const far = makeCircuit({ qubits: 4, gates: [ry(0, 0.4), cz(0, 3), cx(1, 3), h(2), cz(0, 1)] });
  it('templates fit a line; a circuit coupling qubits 0 and 3 does not', () => {
    expect(checkConnectivity(alternatingRyCz(7, 2)).fits).toBe(true);
    const r = checkConnectivity(far);
    expect(r.fits).toBe(false);
    expect(r.violations.map((v) => v.wires)).toEqual([
      [0, 3],
      [1, 3],
    ]);
    expect(r.swaps).toBeGreaterThan(0);
    expect(checkConnectivity(far, 'all').fits).toBe(true);
    expect(
      checkConnectivity(far, [
        [0, 3],
        [3, 1],
        [1, 0],
        [2, 3],
      ]).fits,
    ).toBe(true);
  });
  it('exporting a misfit with a coupling map is an error naming the gate; routing inserts SWAPs that preserve the matrix', () => {
    expect(() => exportQasm(far, { coupling: 'linear' })).toThrow(InputError);
    expect(() => exportQasm(far, { coupling: 'linear' })).toThrow(/gate 1 couples qubits 0 and 3/);
    const routed = routeCircuit(far);
    expect(routed.circuit.gates.filter((g) => g.name === 'swap')).toHaveLength(routed.swaps);
    for (const g of routed.circuit.gates)
      if (g.wires.length === 2) expect(Math.abs(g.wires[0] - g.wires[1]!)).toBe(1);
    // Undo the final layout with SWAPs and compare with the original.
    const perm = [...routed.layout];
    const undo = [];
    for (let i = 0; i < perm.length; i++) {
      const at = perm[i]!;
      if (at !== i) {
        const j = perm.indexOf(i);
        undo.push(swap(at, i));
        perm[j] = at;
        perm[i] = i;
      }
    }
    const back = makeCircuit({ qubits: 4, gates: [...routed.circuit.gates, ...undo] });
    expect(distanceUpToPhase(simulateComplex(far), simulateComplex(back))).toBeLessThan(1e-12);
    const text = exportQasm(far, { coupling: 'linear', routing: 'swap', measure: true });
    expect(text).toMatch(/routed with \d+ inserted SWAP/);
  });
});
