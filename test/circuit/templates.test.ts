import { describe, expect, it } from 'vitest';
import { gateStats } from '../../src/circuit/ir.ts';
import {
  alternatingRyCz,
  getTemplate,
  simplifiedTwoDesign,
  TEMPLATES,
} from '../../src/circuit/templates/index.ts';
import { InputError } from '../../src/errors.ts';

/** A gate as a compact string: `ry(0)=theta3`, `cz(1,2)`. */
function show(c: ReturnType<typeof simplifiedTwoDesign>): string[] {
  return c.gates.map((g) =>
    'angle' in g && typeof g.angle !== 'number'
      ? `${g.name}(${g.wires.join(',')})=${g.angle.param}`
      : `${g.name}(${g.wires.join(',')})`,
  );
}

describe('simplifiedTwoDesign matches PennyLane SimplifiedTwoDesign', () => {
  // Written by hand from PennyLane's documented decomposition: RY(initial_layer_weights[i]) on wire i; then per
  // layer, for even pairs (0,1),(2,3)…: CZ, RY(weights[l, i, 0]) on the first wire, RY(weights[l, i, 1]) on the
  // second; then odd pairs (1,2),(3,4)… with block index n//2 + i. θ = initial weights, then weights row-major.
  it('n = 3, L = 1', () => {
    // weights shape (1, 2, 2): block 0 = pair (0,1) -> theta3, theta4; block 1 = pair (1,2) -> theta5, theta6
    // biome-ignore format: one line per block reads as the decomposition
    expect(show(simplifiedTwoDesign(3, 1))).toEqual([
      'ry(0)=theta0', 'ry(1)=theta1', 'ry(2)=theta2',
      'cz(0,1)', 'ry(0)=theta3', 'ry(1)=theta4',
      'cz(1,2)', 'ry(1)=theta5', 'ry(2)=theta6',
    ]);
  });
  it('n = 4, L = 2', () => {
    // weights shape (2, 3, 2): per layer blocks (0,1), (2,3) [even], then (1,2) [odd]; layer l starts at 4 + 6l
    // biome-ignore format: one line per block reads as the decomposition
    expect(show(simplifiedTwoDesign(4, 2))).toEqual([
      'ry(0)=theta0', 'ry(1)=theta1', 'ry(2)=theta2', 'ry(3)=theta3',
      'cz(0,1)', 'ry(0)=theta4', 'ry(1)=theta5',
      'cz(2,3)', 'ry(2)=theta6', 'ry(3)=theta7',
      'cz(1,2)', 'ry(1)=theta8', 'ry(2)=theta9',
      'cz(0,1)', 'ry(0)=theta10', 'ry(1)=theta11',
      'cz(2,3)', 'ry(2)=theta12', 'ry(3)=theta13',
      'cz(1,2)', 'ry(1)=theta14', 'ry(2)=theta15',
    ]);
  });
  it('n = 1 has one RY whatever the depth', () => {
    expect(show(simplifiedTwoDesign(1, 3))).toEqual(['ry(0)=theta0']);
  });
});

describe('template declarations agree with the circuits they build', () => {
  for (const def of Object.values(TEMPLATES)) {
    it(def.name, () => {
      for (const n of [1, 2, 3, 5, 8]) {
        for (const L of [0, 1, 3]) {
          const c = def.build(n, L);
          expect(c.params.length).toBe(def.paramCount(n, L));
          const shapeSize = def.paramShape(n, L).reduce((s, b) => s + b.shape.reduce((a, d) => a * d, 1), 0);
          if (n > 1) expect(shapeSize).toBe(def.paramCount(n, L));
          const counts = gateStats(c).counts;
          for (const [name, count] of Object.entries(def.gateCounts(n, L)))
            expect(counts[name as 'ry'] ?? 0).toBe(count);
          // every declared parameter is used exactly once, in θ order
          const used = c.gates.flatMap((g) =>
            'angle' in g && typeof g.angle !== 'number' ? [g.angle.param] : [],
          );
          expect(used).toEqual(c.params);
        }
      }
    });
  }
  it('closed forms: n + 2L(n−1) and (2L+1)n', () => {
    expect(simplifiedTwoDesign(10, 2).params.length).toBe(10 + 2 * 2 * 9);
    expect(alternatingRyCz(4, 3).params.length).toBe(7 * 4);
  });
});

describe('alternatingRyCz layout', () => {
  it('n = 3, L = 1: RY layer, CZ even, RY layer, CZ odd, RY layer', () => {
    // biome-ignore format: one line per layer
    expect(show(alternatingRyCz(3, 1))).toEqual([
      'ry(0)=theta0', 'ry(1)=theta1', 'ry(2)=theta2',
      'cz(0,1)',
      'ry(0)=theta3', 'ry(1)=theta4', 'ry(2)=theta5',
      'cz(1,2)',
      'ry(0)=theta6', 'ry(1)=theta7', 'ry(2)=theta8',
    ]);
  });
});

describe('template input errors', () => {
  it('rejects bad shapes with the template name and the value given', () => {
    expect(() => simplifiedTwoDesign(0, 1)).toThrow(InputError);
    expect(() => simplifiedTwoDesign(2.5, 1)).toThrow(/qubits must be an integer in 1\.\.30, got 2\.5/);
    expect(() => alternatingRyCz(3, -1)).toThrow(
      /alternating-ry-cz: layers must be a non-negative integer, got -1/,
    );
    expect(() => getTemplate('hea')).toThrow(
      /unknown template "hea"; expected one of simplified-two-design, alternating-ry-cz/,
    );
  });
});
