/** Device topologies, the SWAP-free initial layout, coupling files, success probabilities. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cx, makeCircuit } from '../../src/circuit/ir.ts';
import { simplifiedTwoDesign } from '../../src/circuit/templates/index.ts';
import {
  buildPlan,
  chooseLayout,
  deviceFromCouplingFile,
  deviceSuccessProbability,
  eagleEdges,
  findPath,
  getDevice,
  templateFactor,
} from '../../src/hardware/index.ts';
import { cleanup, tmp } from './helpers.ts';

afterAll(cleanup);

describe('ibm-eagle-127', () => {
  const edges = eagleEdges();
  const adj = new Map<number, number[]>();
  for (const [a, b] of edges) {
    adj.set(a, [...(adj.get(a) ?? []), b]);
    adj.set(b, [...(adj.get(b) ?? []), a]);
  }
  it('127 qubits, 144 couplings, degrees 1–3 (heavy hex)', () => {
    expect(adj.size).toBe(127);
    expect(edges.length).toBe(144);
    expect(new Set(edges.map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`)).size).toBe(144);
    for (const n of adj.values()) {
      expect(n.length).toBeGreaterThanOrEqual(1);
      expect(n.length).toBeLessThanOrEqual(3);
    }
  });
  it("neighbours agree with Qiskit's published FakeSherbrooke coupling map (spot checks)", () => {
    // conf_sherbrooke.json, as listed in qiskit-ibm-runtime's fake provider
    const published: Record<number, number[]> = {
      0: [1, 14],
      4: [3, 5, 15],
      12: [11, 13, 17],
      13: [12],
      14: [0, 18],
      17: [12, 30],
      20: [19, 21, 33],
      32: [31, 36],
      33: [20, 39],
      36: [32, 51],
      37: [38, 52],
      109: [96, 114],
      112: [108, 126],
      126: [112, 125],
    };
    for (const [q, want] of Object.entries(published))
      expect(adj.get(Number(q))!.sort((a, b) => a - b)).toEqual(want);
  });
  it('a 10-qubit template lands on a device path with no SWAP', () => {
    const d = getDevice('ibm-eagle-127');
    const c = simplifiedTwoDesign(10, 2);
    const l = chooseLayout(d, c);
    expect(l.swaps).toBe(0);
    expect(new Set(l.physical).size).toBe(10);
    for (let i = 0; i + 1 < 10; i++) {
      expect(adj.get(l.physical[i]!)).toContain(l.physical[i + 1]!);
    }
    expect(findPath(d, 40)).not.toBeNull();
  });
});

describe('other devices and coupling files', () => {
  it('trapped ion: all-to-all, trivial layout; linear-N: the chain', () => {
    const c = simplifiedTwoDesign(5, 1);
    expect(chooseLayout(getDevice('ionq-aria-25'), c)).toMatchObject({ physical: [0, 1, 2, 3, 4], swaps: 0 });
    expect(chooseLayout(getDevice('linear-7'), c).physical).toEqual([0, 1, 2, 3, 4]);
    expect(() => chooseLayout(getDevice('linear-3'), c)).toThrow(/needs 5 qubits; device linear-3 has 3/);
    expect(() => getDevice('ibm-falcon')).toThrow(/unknown device "ibm-falcon"; expected one of/);
  });
  it('a star has no 4-qubit path: the layout is routed and the SWAPs reported', () => {
    const dir = tmp();
    const file = path.join(dir, 'star.txt');
    writeFileSync(file, '# a star\n0 1\n0 2\n0 3\n0 4\n');
    const d = deviceFromCouplingFile(file);
    expect(d.qubits).toBe(5);
    const l = chooseLayout(d, simplifiedTwoDesign(4, 1));
    expect(l.swaps).toBeGreaterThan(0);
    expect(l.note).toMatch(/no SWAP-free path found .* SWAP\(s\)/);
    // the plan's programs are routed, and still re-simulate (SWAPs counted in the plan)
    const { plan } = buildPlan(
      { kind: 'template', template: 'simplified-two-design', qubits: 4, layers: 1, seed: 0 },
      [templateFactor('simplified-two-design', 4, 1, 0, 1)],
      [],
      { device: d },
    );
    expect(plan.device!.swaps).toBeGreaterThan(0);
    expect(plan.circuits[0]!.gates.swap).toBeGreaterThan(0);
  });
  it('coupling files: JSON with error rates; bad edges refused', () => {
    const dir = tmp();
    const f = path.join(dir, 'c.json');
    writeFileSync(
      f,
      JSON.stringify({
        edges: [
          [0, 1],
          [1, 2],
        ],
        errors: { oneQubit: 0.001, twoQubit: 0.01, readout: 0.02 },
      }),
    );
    expect(deviceFromCouplingFile(f).errors).toEqual({ oneQubit: 0.001, twoQubit: 0.01, readout: 0.02 });
    writeFileSync(f, '[[0, 0]]');
    expect(() => deviceFromCouplingFile(f)).toThrow(/pairs of two different qubit indices/);
    writeFileSync(f, '0 1\n1 x\n');
    expect(() => deviceFromCouplingFile(f)).toThrow(/line 2 .*expected "a b"/);
  });
  it('a non-chain circuit is routed rather than forced onto a path', () => {
    // a triangle of interactions cannot sit on a chain without a SWAP
    const c = makeCircuit({ qubits: 3, gates: [cx(0, 1), cx(1, 2), cx(0, 2)] });
    const l = chooseLayout(getDevice('linear-3'), c);
    expect(l.swaps).toBeGreaterThanOrEqual(1);
    expect(l.note).toMatch(/routed on qubits/);
  });
});

describe('deviceSuccessProbability', () => {
  it('Π (1 − e) over gates and readouts, virtual rz free, a SWAP as three two-qubit gates', () => {
    const d = getDevice('ibm-eagle-127');
    const e = d.errors!;
    const p = deviceSuccessProbability(d, { sx: 10, rz: 7, cz: 3, swap: 1 }, 4);
    expect(p).toBeCloseTo((1 - e.oneQubit) ** 10 * (1 - e.twoQubit) ** 6 * (1 - e.readout) ** 4, 12);
    expect(deviceSuccessProbability(getDevice('linear-5'), { cz: 1 }, 2)).toBeNull();
  });
});
