import { describe, expect, it } from 'vitest';
import { makeCircuit, param, rx, ry } from '../../src/circuit/ir.ts';
import { simplifiedTwoDesign } from '../../src/circuit/templates/index.ts';
import { CapacityError, InputError, ParameterError, UnsupportedGateError } from '../../src/errors.ts';
import { vjp } from '../../src/sim/adjoint.ts';
import { applyToStates, columns, rowsTimes } from '../../src/sim/simulate.ts';
import { createRng, uniformAngles } from '../../src/util/random.ts';
import { matmul, maxDiff } from '../helpers/reference.ts';

describe('rows times U and Uᵀ', () => {
  const c = simplifiedTwoDesign(4, 2);
  const th = uniformAngles(c.params.length, 2);
  const u = columns(c, th).data;
  const rng = createRng(4);
  const x = { rows: 3, cols: 16, data: Float64Array.from({ length: 48 }, () => rng.normal()) };
  it('X·U equals the dense product', () => {
    expect(maxDiff(rowsTimes(c, th, x).data, matmul(x.data, u, 3, 16, 16))).toBeLessThanOrEqual(1e-13);
  });
  it('X·Uᵀ equals the dense product with the transpose', () => {
    const ut = Float64Array.from({ length: 256 }, (_, i) => u[(i % 16) * 16 + Math.floor(i / 16)]!);
    expect(
      maxDiff(rowsTimes(c, th, x, { transpose: true }).data, matmul(x.data, ut, 3, 16, 16)),
    ).toBeLessThanOrEqual(1e-13);
  });
});

describe('bad input gives typed errors', () => {
  const c = simplifiedTwoDesign(3, 1);
  it('missing or wrong parameter values', () => {
    expect(() => columns(c)).toThrow(ParameterError);
    expect(() => columns(c)).toThrow(
      /7 free parameter\(s\) \(theta0, theta1, theta2, …\) and no values were given/,
    );
    expect(() => columns(c, [1, 2])).toThrow(/expected 7 parameter values/);
  });
  it('column count out of range', () => {
    const th = uniformAngles(7, 0);
    expect(() => columns(c, th, 0)).toThrow(InputError);
    expect(() => columns(c, th, 9)).toThrow(/columns K must be an integer in 1\.\.8 \(2\^3\), got 9/);
  });
  it('complex gates are refused by the real path with a pointer to the complex one', () => {
    const z = makeCircuit({ qubits: 1, gates: [ry(0, 0.1), rx(0, param('a'))] });
    expect(() => columns(z, [0.2])).toThrow(UnsupportedGateError);
    expect(() => columns(z, [0.2])).toThrow(/gate 1 \(rx\) is complex.*simulateComplex/);
    expect(() => vjp(z, [0.2], { rows: 2, cols: 1, data: new Float64Array(2) })).toThrow(
      UnsupportedGateError,
    );
  });
  it('states and upstream gradients of the wrong shape', () => {
    const th = uniformAngles(7, 0);
    expect(() => applyToStates(c, th, new Float64Array(7), 1)).toThrow(
      /states must hold 2\^3 × batch = 8 × 1 numbers, got 7/,
    );
    expect(() => vjp(c, th, { rows: 4, cols: 1, data: new Float64Array(4) })).toThrow(
      /upstream gradient must be 8×1, got 4×1/,
    );
    expect(() => rowsTimes(c, th, { rows: 1, cols: 4, data: new Float64Array(4) })).toThrow(
      /row vectors must have 8 entries/,
    );
  });
  it('qubit counts beyond memory say how much memory they would need', () => {
    const big = simplifiedTwoDesign(30, 0);
    const th = new Float64Array(30);
    expect(() => columns(big, th, 4)).toThrow(CapacityError);
    expect(() => columns(big, th, 4)).toThrow(
      /30 qubits with a batch of 4 state\(s\) needs 32 GiB of float64 state/,
    );
  });
});
